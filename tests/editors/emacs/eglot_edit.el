;;; eglot_edit.el --- Tandem's edit code actions in a real Emacs + eglot, in batch mode  -*- lexical-binding: t -*-

;; Run by tests/editors/test_eglot_edit.py: `emacs --batch -l eglot_edit.el`, with the settings in
;; TANDEM_* environment variables. Opens a Python file, connects eglot to tandem-lsp, selects the
;; lines TANDEM_REGION names ("FIRST-LINE LAST-LINE", 1-based), lists the code actions there, runs
;; "Tandem: Fix" as `eglot-code-actions' does (M-x eglot-code-actions, then the action), which makes
;; the server send workspace/applyEdit; records the titles and the buffer after, as JSON.

(load (expand-file-name "tandem-eglot" (file-name-directory load-file-name)) nil t)

(defun tandem-line-start (n)
  (save-excursion (goto-char (point-min)) (forward-line (1- n)) (point)))

(tandem-run
 (let ((file (expand-file-name "box.py" (getenv "TANDEM_DIR")))
       (region (mapcar #'string-to-number (split-string (getenv "TANDEM_REGION"))))
       ;; Apply the server's edit without asking (batch mode has nobody to ask).
       (eglot-confirm-server-initiated-edits nil))
   (find-file file)
   (python-mode)
   (tandem-connect)
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
   (puthash "after" (buffer-string) tandem-result)))
