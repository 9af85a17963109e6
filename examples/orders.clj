;; Revenue per region from host data, converted with a tool:
;;   python -m ptclisp eval examples/orders.clj --data @examples/orders.json \
;;       --tools '{"fx-rate": {"rate": 1.1}}'
(let [{:keys [rate]} (tool/fx-rate {:from "USD" :to "EUR"})
      paid (filter #(= (:status %) "paid") data/orders)]
  (when (empty? paid)
    (fail {:reason "no paid orders"}))
  (->> paid
       (group-by :region)
       (map (fn [[region orders]]
              [region (* rate (reduce + (map :amount orders)))]))
       (sort-by second >)
       (into [])))
