;;; eglot_complete.el --- Tandem's completion fallback in a real Emacs + eglot, in batch mode  -*- lexical-binding: t -*-

;; Run by tests/editors/test_eglot.py: `emacs --batch -l eglot_complete.el`, with the settings in
;; TANDEM_* environment variables. Opens a Python file, connects eglot to tandem-lsp, puts the
;; cursor after a half-typed word and runs `completion-at-point' (what M-TAB / company do) until
;; an item comes; records the buffer before and after and every completion answer, as JSON.

(load (expand-file-name "tandem-eglot" (file-name-directory load-file-name)) nil t)

(defvar tandem-answers nil "Every textDocument/completion answer, oldest first.")

(add-hook 'tandem-before-write-hook
          (lambda () (puthash "answers" (vconcat (reverse tandem-answers)) tandem-result)))

;; Keep what the server answered, as the client saw it.
(advice-add 'jsonrpc-request :around
            (lambda (orig conn method params &rest args)
              (let ((answer (apply orig conn method params args)))
                (when (eq method :textDocument/completion)
                  (push answer tandem-answers))
                answer)))

(defun tandem-items (answer)
  (append (if (vectorp answer) answer (plist-get answer :items)) nil))

(defun tandem-complete-at-end-of (line-text tries)
  "Put point after LINE-TEXT (a new last line) and complete until the buffer changes."
  (goto-char (point-max))
  (insert line-text)
  (let ((before (buffer-string))
        (point-before (point))
        (first-answer (length tandem-answers))
        (n 0))
    (while (and (< n tries) (string= before (buffer-string)))
      (setq n (1+ n))
      (completion-at-point)
      (goto-char (if (string= before (buffer-string)) point-before (point))))
    (list before (buffer-string) n first-answer)))

(tandem-run
 (let ((file (expand-file-name "add.py" (getenv "TANDEM_DIR"))))
   (with-temp-file file (insert "def add(a, b):\n"))
   (find-file file)
   (python-mode)
   (setq-local indent-tabs-mode nil)
   (electric-indent-local-mode -1)
   (tandem-connect)
   ;; Mid-word: "    ret" -- the case that doubled characters.
   (let ((run (tandem-complete-at-end-of "    ret" 8)))
     (puthash "midword_before" (nth 0 run) tandem-result)
     (puthash "midword_after" (nth 1 run) tandem-result)
     (puthash "midword_tries" (nth 2 run) tandem-result)
     (puthash "midword_first_answer" (nth 3 run) tandem-result))
   ;; After a space: nothing typed of the word yet.
   (goto-char (point-max))
   (insert "\n")
   (let ((run (tandem-complete-at-end-of "x = " 8)))
     (puthash "space_before" (nth 0 run) tandem-result)
     (puthash "space_after" (nth 1 run) tandem-result)
     (puthash "space_tries" (nth 2 run) tandem-result)
     (puthash "space_first_answer" (nth 3 run) tandem-result))))
