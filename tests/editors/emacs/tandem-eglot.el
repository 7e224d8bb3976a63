;;; tandem-eglot.el --- What the eglot batch scripts share  -*- lexical-binding: t -*-

;; Loaded by eglot_complete.el and eglot_edit.el. The settings come in TANDEM_* environment
;; variables (tests/editors/test_eglot.py `run_eglot'); the result goes to TANDEM_OUT as JSON.

(require 'package)
(package-initialize)
(require 'json)
(require 'python)
(require 'eglot)

(defvar tandem-out (getenv "TANDEM_OUT"))
(defvar tandem-result (make-hash-table :test 'equal))
(defvar tandem-before-write-hook nil
  "Run just before the result is written: a script adds what it collected along the way.")

(defun tandem-write (ok &optional error)
  (puthash "ok" (if ok t :json-false) tandem-result)
  (when error (puthash "error" error tandem-result))
  (run-hooks 'tandem-before-write-hook)
  (with-temp-file tandem-out
    (insert (json-encode tandem-result))))

(defun tandem-server-programs ()
  "`eglot-server-programs' that start tandem-lsp for Python, as TANDEM_* say."
  `((python-mode . (,(getenv "TANDEM_PYTHON") "-m" "lsp_server"
                    "--log-file" ,(getenv "TANDEM_SERVER_LOG")
                    :initializationOptions
                    ,(json-read-from-string (getenv "TANDEM_INIT_OPTIONS"))))))

(defun tandem-connect ()
  "Connect eglot in the current buffer to tandem-lsp; record the server's name."
  (apply #'eglot (eglot--guess-contact))
  (unless (eglot-current-server) (error "eglot did not connect"))
  (puthash "server" (plist-get (eglot--server-info (eglot-current-server)) :name) tandem-result))

(defmacro tandem-run (&rest body)
  "Run BODY with eglot set to start tandem-lsp; write the result (or the error) and exit."
  `(progn
     (condition-case err
         (let ((eglot-sync-connect 60)
               (eglot-connect-timeout 60)
               (jsonrpc-default-request-timeout 60)
               (eglot-server-programs (tandem-server-programs)))
           ,@body
           (tandem-write t))
       (error (tandem-write nil (format "%S" err))))
     (ignore-errors (eglot-shutdown (eglot-current-server)))
     (kill-emacs 0)))

(provide 'tandem-eglot)
