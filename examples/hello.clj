;; Hello, ptclisp: python -m ptclisp eval examples/hello.clj
(defn greet [name]
  (str "Hello, " name "!"))

(println (greet "world"))
(mapv greet ["Ann" "Bob"])
