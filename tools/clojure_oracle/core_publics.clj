;; clojure.core public vars with their kind (fn, macro, var) and whether deprecated; one per line.
;; java -cp /usr/share/java/clojure.jar:... clojure.main core_publics.clj > tests/conformance/clojure_core_publics.txt
(doseq [[s v] (sort-by (comp str key) (ns-publics 'clojure.core))]
  (let [m (meta v)]
    (println (str s) (if (:macro m) "macro" (if (fn? @v) "fn" "var")) (boolean (:deprecated m)))))
