;; Conformance oracle: evaluates many ptclisp test programs in one JVM with real Clojure.
;;
;; Input (path in the first argument): one EDN map per line,
;;   {:i 0 :program "source" :tools {"name" <value>} :data {"name" <value>}}
;; where values are JSON converted to EDN by run_oracle.py (object keys still strings; they are
;; keywordized here, as ptclisp converts tool results).
;; Output (stdout): one line per case, `<i>\t<STATUS>\t<payload>` where STATUS is OK (payload is
;; the pr-str of the value, itself pr-str'd so it fits on one line), ERR (payload is the pr-str'd
;; "ExceptionClass: message") or TIMEOUT (then the JVM exits; the caller restarts after it,
;; because a runaway evaluation thread cannot be stopped safely).
(ns clojure-oracle.driver
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io]
            [clojure.set]
            [clojure.string]
            [clojure.walk :as walk])
  (:import [clojure.lang LineNumberingPushbackReader]
           [java.io StringReader StringWriter]
           [java.util.concurrent TimeoutException]))

(def ^:private timeout-ms 10000)

(defn- fresh-case-ns
  "A new namespace per case, so one case's `def`s cannot leak into the next."
  [i]
  (let [n (create-ns (symbol (str "ptclisp.case" i)))]
    (binding [*ns* n]
      (refer-clojure)
      (alias 'str 'clojure.string)
      (alias 'string 'clojure.string)
      (alias 'set 'clojure.set))
    ;; (return v) ends the program with v, as in ptclisp.
    (intern n 'return (fn [v] (throw (ex-info "return" {::return v}))))
    n))

(defn- install-host-ns!
  "Recreate namespace `ns-sym` holding one var per entry; `make` builds the var's value."
  [ns-sym entries make]
  (remove-ns ns-sym)
  (let [n (create-ns ns-sym)]
    (doseq [[k v] entries]
      (intern n (symbol k) (make (walk/keywordize-keys v))))))

(defn- read-all [src]
  (let [rdr (LineNumberingPushbackReader. (StringReader. src))]
    (loop [forms []]
      (let [form (read {:eof ::eof} rdr)]
        (if (= form ::eof) forms (recur (conj forms form)))))))

(defn- evaluate
  "Read and evaluate the whole program in `case-ns`; returns the pr-str of its value."
  [case-ns src]
  (binding [*ns* case-ns
            *out* (StringWriter.)  ; program output must not corrupt the result protocol
            *err* (StringWriter.)
            *read-eval* false
            *print-namespace-maps* false
            *print-length* nil
            *print-level* nil]
    (let [value (try
                  (reduce (fn [_ form] (eval form)) nil (read-all src))
                  (catch clojure.lang.ExceptionInfo e
                    (let [data (ex-data e)]
                      (if (contains? data ::return) (::return data) (throw e)))))]
      (pr-str value))))

(defn- root-cause [^Throwable t]
  ;; Compiler wraps evaluation errors in CompilerException; report what the program hit.
  (if (and (instance? clojure.lang.Compiler$CompilerException t) (.getCause t))
    (recur (.getCause t))
    t))

(defn- describe [^Throwable t]
  (let [t (root-cause t)]
    (str (.getSimpleName (class t)) ": " (.getMessage t))))

(defn- emit [i status payload]
  (println (str i "\t" status "\t" (pr-str payload)))
  (flush))

(defn- run-case [{:keys [i program tools data]}]
  (install-host-ns! 'tool tools (fn [v] (fn [& _] v)))
  (install-host-ns! 'data data identity)
  (let [case-ns (fresh-case-ns i)
        job (future (try [:ok (evaluate case-ns program)]
                         (catch Throwable t [:err (describe t)])))
        [status payload] (deref job timeout-ms [:timeout nil])]
    (remove-ns (ns-name case-ns))
    (case status
      :ok (emit i "OK" payload)
      :err (emit i "ERR" payload)
      :timeout (do (emit i "TIMEOUT" "") (shutdown-agents) (System/exit 3)))))

(defn -main [path]
  (with-open [rdr (io/reader path :encoding "UTF-8")]
    (doseq [line (line-seq rdr)
            :when (not (clojure.string/blank? line))]
      (run-case (edn/read-string line))))
  (shutdown-agents))

(apply -main *command-line-args*)
