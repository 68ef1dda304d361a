-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 4. Market-basket analysis: frequent itemsets and association rules
-- MAGIC
-- MAGIC A basket is one member on one day (`silver.transactions`, one row per basket and item).
-- MAGIC
-- MAGIC - `gold.frequent_itemsets`: itemsets of any length (up to `max_len`) whose support (the share of
-- MAGIC   baskets that hold all of them) is at least `min_support`, as mlxtend's `apriori`; `itemsets` is the
-- MAGIC   array of items in name order.
-- MAGIC - `gold.association_rules`: every split of a frequent itemset into antecedent → consequent,
-- MAGIC   (`antecedents`, `consequents`: arrays of items in name order), with the metrics exactly as mlxtend's `association_rules` defines them: support, confidence,
-- MAGIC   lift, representativity (1 here: no basket has missing values), leverage, conviction,
-- MAGIC   Zhang's metric, Jaccard, certainty and Kulczynski.
-- MAGIC
-- MAGIC Parameters:
-- MAGIC
-- MAGIC | name | meaning | original analysis |
-- MAGIC |---|---|---|
-- MAGIC | `min_support` | minimum itemset support | 0.001 |
-- MAGIC | `max_len` | longest itemset (0: no limit, mlxtend's `max_len=None`) | 0 |
-- MAGIC | `metric` | the metric that filters the rules (`support`, `confidence`, `lift`, `leverage`, `conviction`, `zhangs_metric`, `jaccard`, `certainty`, `kulczynski`, `antecedent_support`, `consequent_support`, `representativity`) | lift |
-- MAGIC | `min_threshold` | keep rules whose `metric` is at least this | 0.8 |
-- MAGIC | `confidence_above` | then keep rules whose confidence is strictly above this (0 keeps all) | 0.1 |

-- COMMAND ----------

-- DBTITLE 1,Check: the rule metric is one mlxtend knows
SELECT assert_true(
  :metric IN ('support', 'confidence', 'lift', 'leverage', 'conviction', 'zhangs_metric', 'jaccard', 'certainty',
              'kulczynski', 'antecedent_support', 'consequent_support', 'representativity'),
  concat('unknown rule metric ', :metric, ': expected support, confidence, lift, leverage, conviction, ',
         'zhangs_metric, jaccard, certainty, kulczynski, antecedent_support, consequent_support or representativity'));

-- COMMAND ----------

-- DBTITLE 1,Frequent itemsets of any length
-- Neither engine can loop over Apriori's levels in one statement: Spark 4.0 has no recursive CTE, and where
-- there is one (Spark 4.1, Databricks 17+) it may not aggregate over its recursive reference, which counting a
-- level needs. So items and pairs are counted by joins, and triples by joining each basket's frequent pairs that
-- share their first item: nearly every basket stops there. A set of four or more items can only be frequent if
-- all its triples are, so only a basket with four items each in three of its frequent triples can hold one; each
-- such basket lists, in one pass, every set of those items whose pairs all lie in its frequent triples (the
-- cliques of that graph: every longer frequent itemset is one), with a fold over the basket's items (aggregate),
-- and one count keeps the frequent ones. The work grows with the baskets and with the candidate sets they hold,
-- not with a fixed number of levels.
CREATE OR REPLACE TABLE gold.frequent_itemsets USING DELTA AS
WITH basket_total AS (
  SELECT CAST(count(*) AS DOUBLE) AS baskets FROM silver.baskets
),
item_counts AS (
  SELECT item, count(*) AS basket_count FROM silver.transactions GROUP BY item
),
frequent_items AS (
  -- Small integer codes (from 1) in name order, so that code order is name order.
  SELECT c.item, c.basket_count, CAST(row_number() OVER (ORDER BY c.item) AS INT) AS item_code
  FROM item_counts c
  CROSS JOIN basket_total t
  WHERE CAST(c.basket_count AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
),
item_names AS (
  -- Every frequent item's name at the position of its code (element_at counts from 1).
  SELECT array_sort(array_agg(item)) AS names FROM frequent_items
),
basket_items AS (
  SELECT s.basket_id, f.item_code
  FROM silver.transactions s
  JOIN frequent_items f ON s.item = f.item
),
basket_pairs AS (
  SELECT a.basket_id, a.item_code AS code_1, b.item_code AS code_2
  FROM basket_items a
  JOIN basket_items b ON a.basket_id = b.basket_id AND a.item_code < b.item_code
),
frequent_pairs AS (
  SELECT p.code_1, p.code_2, count(*) AS basket_count
  FROM basket_pairs p
  CROSS JOIN basket_total t
  GROUP BY p.code_1, p.code_2, t.baskets
  HAVING CAST(count(*) AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
),
basket_frequent_pairs AS (
  SELECT p.basket_id, p.code_1, p.code_2
  FROM basket_pairs p
  JOIN frequent_pairs f ON f.code_1 = p.code_1 AND f.code_2 = p.code_2
),
basket_triples AS (
  -- Each basket's triples made of two of its frequent pairs that share their first item (max_len 1 or 2 asks for
  -- none). Whether the third pair is frequent too is left to the count: a triple is frequent only if its pairs are.
  SELECT a.basket_id, a.code_1, a.code_2, b.code_2 AS code_3
  FROM basket_frequent_pairs a
  JOIN basket_frequent_pairs b ON b.basket_id = a.basket_id AND b.code_1 = a.code_1 AND b.code_2 > a.code_2
  WHERE CAST(:max_len AS INT) <= 0 OR CAST(:max_len AS INT) >= 3
),
frequent_triples AS (
  SELECT t.code_1, t.code_2, t.code_3, count(*) AS basket_count
  FROM basket_triples t
  CROSS JOIN basket_total b
  GROUP BY t.code_1, t.code_2, t.code_3, b.baskets
  HAVING CAST(count(*) AS DOUBLE) / b.baskets >= CAST(:min_support AS DOUBLE)
),
basket_frequent_triples AS (
  -- Only these can make up a longer frequent set: every three items of a frequent set are a frequent triple
  -- (max_len 3 or less asks for none).
  SELECT t.basket_id, t.code_1, t.code_2, t.code_3
  FROM basket_triples t
  JOIN frequent_triples f ON f.code_1 = t.code_1 AND f.code_2 = t.code_2 AND f.code_3 = t.code_3
  WHERE CAST(:max_len AS INT) <= 0 OR CAST(:max_len AS INT) >= 4
),
triple_items AS (
  -- Each item of a basket's frequent triples, with the number of those triples it is in.
  SELECT basket_id, item_code, count(*) AS triples
  FROM (SELECT basket_id, code_1 AS item_code FROM basket_frequent_triples
        UNION ALL SELECT basket_id, code_2 FROM basket_frequent_triples
        UNION ALL SELECT basket_id, code_3 FROM basket_frequent_triples) t
  GROUP BY basket_id, item_code
),
larger_baskets AS (
  -- Single items, pairs and triples are counted above; a set of k >= 4 items has each item in k-1 choose 2 >= 3
  -- of its triples, all frequent if the set is. So only a basket with four items each in three of its frequent
  -- triples can hold a longer frequent set, and the fold below runs on these alone: nearly none where items
  -- are bought independently.
  SELECT basket_id FROM triple_items
  WHERE triples >= 3
  GROUP BY basket_id
  HAVING count(*) >= 4
),
fold_items AS (
  -- The items of a larger basket that can be in a longer frequent set (in three of its frequent triples).
  SELECT i.basket_id, i.item_code
  FROM triple_items i JOIN larger_baskets l ON l.basket_id = i.basket_id
  WHERE i.triples >= 3
),
fold_pairs AS (
  -- The pairs of those items in one of the basket's frequent triples: every two items of a longer frequent set
  -- are in one of its triples.
  SELECT DISTINCT p.basket_id, p.code_1, p.code_2
  FROM (SELECT basket_id, code_1, code_2 FROM basket_frequent_triples
        UNION ALL SELECT basket_id, code_1, code_3 FROM basket_frequent_triples
        UNION ALL SELECT basket_id, code_2, code_3 FROM basket_frequent_triples) p
  JOIN fold_items a ON a.basket_id = p.basket_id AND a.item_code = p.code_1
  JOIN fold_items b ON b.basket_id = p.basket_id AND b.item_code = p.code_2
),
neighbours AS (
  -- Each fold item as its code negated, with the fold items it makes such a pair with.
  SELECT basket_id, -item_code AS member, item_code FROM fold_items
  UNION ALL
  SELECT basket_id, code_2, code_1 FROM fold_pairs
  UNION ALL
  SELECT basket_id, code_1, code_2 FROM fold_pairs
),
item_steps AS (
  -- One fold step per item: [[-item, neighbour, ...]]. The extra list level is there because DuckDB's fold
  -- wants its elements of the accumulator's type (a list of item lists).
  SELECT basket_id, item_code, array_agg(neighbours) AS step
  FROM (SELECT basket_id, item_code, array_agg(member) AS neighbours FROM neighbours GROUP BY basket_id, item_code) n
  GROUP BY basket_id, item_code
),
basket_candidates AS (
  -- Fold over the items: a set grows by an item when every item of the set is its neighbour, and while it is
  -- shorter than max_len (0: no limit). It starts from the empty set, [[]], typed from the data.
  SELECT basket_id,
    aggregate(
      array_agg(step),
      array_distinct(transform(array_agg(step), e -> filter(flatten(e), code -> false))),
      (sets, e) -> concat(sets, transform(
        filter(sets, s -> (CAST(:max_len AS INT) <= 0 OR size(s) < CAST(:max_len AS INT))
                          AND size(array_intersect(s, flatten(e))) = size(s)),
        s -> concat(s, transform(filter(flatten(e), code -> code < 0), code -> -code))))) AS sets
  FROM item_steps
  GROUP BY basket_id
),
candidate_counts AS (
  -- Sorted: each basket folds its items in whatever order array_agg gave them.
  SELECT array_sort(codes) AS codes, count(*) AS basket_count
  FROM (SELECT explode(sets) AS codes FROM basket_candidates) c
  WHERE size(codes) >= 4
  GROUP BY array_sort(codes)
),
all_counts AS (
  -- Sets of four or more items, frequent triples, pairs and items, each as a list of codes (array_agg of a group
  -- of one to three rows: a list literal is written differently in Spark and DuckDB).
  SELECT codes, basket_count FROM candidate_counts
  UNION ALL
  SELECT array_sort(array_agg(code)), max(basket_count)
  FROM (SELECT code_1, code_2, code_3, code_1 AS code, basket_count FROM frequent_triples
        UNION ALL SELECT code_1, code_2, code_3, code_2, basket_count FROM frequent_triples
        UNION ALL SELECT code_1, code_2, code_3, code_3, basket_count FROM frequent_triples) t
  GROUP BY code_1, code_2, code_3
  UNION ALL
  SELECT array_sort(array_agg(code)), max(basket_count)
  FROM (SELECT code_1, code_2, code_1 AS code, basket_count FROM frequent_pairs
        UNION ALL SELECT code_1, code_2, code_2, basket_count FROM frequent_pairs) p
  GROUP BY code_1, code_2
  UNION ALL
  SELECT array_agg(item_code), max(basket_count) FROM frequent_items GROUP BY item_code
)
SELECT
  transform(c.codes, code -> element_at(n.names, code)) AS itemsets,
  size(c.codes) AS length,
  CAST(c.basket_count AS BIGINT) AS basket_count,
  CAST(c.basket_count AS DOUBLE) / t.baskets AS support
FROM all_counts c
CROSS JOIN basket_total t
CROSS JOIN item_names n
WHERE CAST(c.basket_count AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
  AND (CAST(:max_len AS INT) <= 0 OR size(c.codes) <= CAST(:max_len AS INT));

-- COMMAND ----------

-- DBTITLE 1,Check: itemsets are frequent, in name order and no longer than max_len
-- coalesce: over no rows DuckDB's count_if is NULL (Spark's is 0), and thresholds may leave no itemsets.
SELECT assert_true(
  bad_itemsets = 0,
  concat('gold.frequent_itemsets: ', CAST(bad_itemsets AS STRING),
         ' itemsets are below min_support, out of name order, longer than max_len or of a wrong length'))
FROM (
  SELECT coalesce(count_if(
    support < CAST(:min_support AS DOUBLE) OR support > 1
    OR length < 1 OR length <> size(itemsets) OR size(array_distinct(itemsets)) <> length
    OR array_sort(itemsets) <> itemsets
    OR (CAST(:max_len AS INT) > 0 AND length > CAST(:max_len AS INT))), 0) AS bad_itemsets
  FROM gold.frequent_itemsets
) checked;

-- COMMAND ----------

-- DBTITLE 1,Association rules
CREATE OR REPLACE TABLE gold.association_rules USING DELTA AS
WITH splits AS (
  -- Every split of an itemset of two or more items into antecedent and consequent, as mlxtend makes them:
  -- bit i of a mask from 1 to 2^length - 2 puts item i + 1 in the antecedent. Items stay in name order.
  SELECT itemsets, support, mask, length
  FROM (SELECT itemsets, support, length, explode(sequence(1, CAST(pow(2, length) AS BIGINT) - 2)) AS mask
        FROM gold.frequent_itemsets WHERE length >= 2) m
),
sides AS (
  SELECT
    transform(filter(sequence(0, length - 1), i -> CAST(floor(mask / pow(2, i)) AS BIGINT) % 2 = 1),
              i -> element_at(itemsets, i + 1)) AS antecedents,
    transform(filter(sequence(0, length - 1), i -> CAST(floor(mask / pow(2, i)) AS BIGINT) % 2 = 0),
              i -> element_at(itemsets, i + 1)) AS consequents,
    support
  FROM splits
),
supported AS (
  -- Both sides are frequent (Apriori), so both are itemsets of the table.
  SELECT s.antecedents, s.consequents, a.support AS antecedent_support, c.support AS consequent_support, s.support
  FROM sides s
  JOIN gold.frequent_itemsets a ON a.itemsets = s.antecedents
  JOIN gold.frequent_itemsets c ON c.itemsets = s.consequents
),
with_confidence AS (
  SELECT supported.*, support / antecedent_support AS confidence FROM supported
),
measured AS (
  -- mlxtend's formulas, in mlxtend's order of operations; its zero-denominator cases included.
  SELECT
    w.*,
    confidence / consequent_support AS lift,
    CAST(1 AS DOUBLE) AS representativity,
    support - antecedent_support * consequent_support AS leverage,
    CASE WHEN confidence < 1 THEN (1 - consequent_support) / (1 - confidence)
         ELSE CAST('Infinity' AS DOUBLE) END AS conviction,
    CASE WHEN greatest(support * (1 - antecedent_support), antecedent_support * (consequent_support - support)) = 0 THEN 0
         ELSE (support - antecedent_support * consequent_support)
              / greatest(support * (1 - antecedent_support), antecedent_support * (consequent_support - support))
         END AS zhangs_metric,
    support / (antecedent_support + consequent_support - support) AS jaccard,
    CASE WHEN 1 - consequent_support = 0 THEN 0
         ELSE (confidence - consequent_support) / (1 - consequent_support) END AS certainty,
    (support / antecedent_support + support / consequent_support) / 2 AS kulczynski
  FROM with_confidence w
)
SELECT
  antecedents, consequents,
  antecedent_support, consequent_support, support, confidence, lift, representativity,
  leverage, conviction, zhangs_metric, jaccard, certainty, kulczynski
FROM measured
WHERE
  CASE :metric
    WHEN 'support' THEN support
    WHEN 'confidence' THEN confidence
    WHEN 'lift' THEN lift
    WHEN 'leverage' THEN leverage
    WHEN 'conviction' THEN conviction
    WHEN 'zhangs_metric' THEN zhangs_metric
    WHEN 'jaccard' THEN jaccard
    WHEN 'certainty' THEN certainty
    WHEN 'kulczynski' THEN kulczynski
    WHEN 'antecedent_support' THEN antecedent_support
    WHEN 'consequent_support' THEN consequent_support
    WHEN 'representativity' THEN representativity
  END >= CAST(:min_threshold AS DOUBLE)
  AND confidence > CAST(:confidence_above AS DOUBLE);

-- COMMAND ----------

-- DBTITLE 1,Check: rule metrics are consistent
SELECT assert_true(
  bad_rules = 0,
  concat('gold.association_rules: ', CAST(bad_rules AS STRING), ' rules have inconsistent supports or metrics'))
FROM (
  SELECT coalesce(count_if(
    antecedent_support IS NULL OR consequent_support IS NULL
    OR support > antecedent_support OR support > consequent_support
    OR confidence <= 0 OR confidence > 1 OR lift <= 0
    OR jaccard <= 0 OR jaccard > 1 OR kulczynski <= 0 OR kulczynski > 1), 0) AS bad_rules
  FROM gold.association_rules
) checked;

-- COMMAND ----------

-- DBTITLE 1,Top rules by lift
SELECT array_join(antecedents, ', ') AS antecedents, array_join(consequents, ', ') AS consequents,
       support, confidence, lift
FROM gold.association_rules
ORDER BY lift DESC, 1, 2
LIMIT 10;
