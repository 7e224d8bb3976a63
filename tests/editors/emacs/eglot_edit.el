;;; eglot_edit.el --- Tandem's edit code actions in a real Emacs + eglot, in batch mode  -*- lexical-binding: t -*-

;; Run by tests/editors/test_eglot_edit.py: `emacs --batch -l eglot_edit.el`, with the settings in
;; TANDEM_* environment variables. Opens a Python file, connects eglot to tandem-lsp, selects the
;; lines TANDEM_REGION names ("FIRST-LINE LAST-LINE", 1-based), lists the code actions there, runs
;; "Tandem: Fix" as `eglot-code-actions' does (M-x eglot-code-actions, then the action), which makes
;; the server send workspace/applyEdit; records the titles and the buffer after, as JSON.

(require 'package)
(package-initialize)
(require 'json)
(require 'python)
(require 'eglot)

(defvar tandem-out (getenv "TANDEM_OUT"))
(defvar tandem-result (make-hash-table :test 'equal))

(defun tandem-write (ok &optional error)
  (puthash "ok" (if ok t :json-false) tandem-result)
  (when error (puthash "error" error tandem-result))
  (with-temp-file tandem-out
    (insert (json-encode tandem-result))))

(defun tandem-line-start (n)
  (save-excursion (goto-char (point-min)) (forward-line (1- n)) (point)))

(condition-case err
    (let* ((dir (getenv "TANDEM_DIR"))
           (file (expand-file-name "box.py" dir))
           (options (json-read-from-string (getenv "TANDEM_INIT_OPTIONS")))
           (region (mapcar #'string-to-number (split-string (getenv "TANDEM_REGION"))))
           (eglot-sync-connect 60)
           (eglot-connect-timeout 60)
           (jsonrpc-default-request-timeout 60)
           ;; Apply the server's edit without asking (batch mode has nobody to ask).
           (eglot-confirm-server-initiated-edits nil)
           (eglot-server-programs
            `((python-mode . (,(getenv "TANDEM_PYTHON") "-m" "lsp_server"
                              "--log-file" ,(getenv "TANDEM_SERVER_LOG")
                              :initializationOptions ,options)))))
      (find-file file)
      (python-mode)
      (apply #'eglot (eglot--guess-contact))
      (unless (eglot-current-server) (error "eglot did not connect"))
      (puthash "server" (plist-get (eglot--server-info (eglot-current-server)) :name) tandem-result)
      (let* ((beg (tandem-line-start (nth 0 region)))
             (end (tandem-line-start (1+ (nth 1 region))))
             (actions (eglot-code-actions beg end nil nil)))
        (puthash "titles" (vconcat (mapcar (lambda (a) (plist-get a :title)) actions)) tandem-result)
        (puthash "before" (buffer-string) tandem-result)
        ;; The Fix action, as choosing it from eglot's menu runs it.
        (eglot-code-actions beg end "quickfix.tandem.fix" t)
        (let ((n 0))
          (while (and (< n 300) (string= (gethash "before" tandem-result) (buffer-string)))
            (setq n (1+ n))
            (accept-process-output nil 0.1))))
      (puthash "after" (buffer-string) tandem-result)
      (tandem-write t))
  (error (tandem-write nil (format "%S" err))))

(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)
