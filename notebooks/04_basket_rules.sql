-- Databricks notebook source
-- MAGIC %md
-- MAGIC # 4. Market-basket analysis: frequent itemsets and association rules
-- MAGIC
-- MAGIC A basket is one member on one day (`silver.transactions`, one row per basket and item).
-- MAGIC
-- MAGIC - `gold.frequent_itemsets`: itemsets of one to three items whose support (the share of
-- MAGIC   baskets that hold all of them) is at least `min_support` (Apriori, counted with joins).
-- MAGIC - `gold.association_rules`: every split of a frequent itemset into antecedent → consequent,
-- MAGIC   with the metrics exactly as mlxtend's `association_rules` defines them: support, confidence,
-- MAGIC   lift, representativity (1 here: no basket has missing values), leverage, conviction,
-- MAGIC   Zhang's metric, Jaccard, certainty and Kulczynski.
-- MAGIC
-- MAGIC Parameters:
-- MAGIC
-- MAGIC | name | meaning | original analysis |
-- MAGIC |---|---|---|
-- MAGIC | `min_support` | minimum itemset support | 0.001 |
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

-- DBTITLE 1,Frequent itemsets of up to three items
CREATE OR REPLACE TABLE gold.frequent_itemsets USING DELTA AS
WITH basket_total AS (
  SELECT CAST(count(*) AS DOUBLE) AS baskets FROM silver.baskets
),
item_counts AS (
  SELECT item, count(*) AS basket_count FROM silver.transactions GROUP BY item
),
frequent_items AS (
  -- Small integer codes in name order, so that code order is name order.
  SELECT c.item, c.basket_count, CAST(row_number() OVER (ORDER BY c.item) AS INT) AS item_code
  FROM item_counts c
  CROSS JOIN basket_total t
  WHERE CAST(c.basket_count AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
),
basket_items AS (
  -- Baskets reduced to their frequent items; a basket of one item holds no pair.
  SELECT s.basket_id, s.basket_size, f.item_code
  FROM silver.transactions s
  JOIN frequent_items f ON s.item = f.item
  WHERE s.basket_size >= 2
),
two_item_basket_pairs AS (
  -- Most baskets hold two items: their one pair needs no join.
  SELECT min(item_code) AS code_1, max(item_code) AS code_2
  FROM basket_items
  WHERE basket_size = 2
  GROUP BY basket_id
  HAVING count(*) = 2
),
larger_basket_pairs AS (
  SELECT a.basket_id, a.item_code AS code_1, b.item_code AS code_2
  FROM basket_items a
  JOIN basket_items b ON a.basket_id = b.basket_id AND a.item_code < b.item_code
  WHERE a.basket_size >= 3 AND b.basket_size >= 3
),
pair_counts AS (
  SELECT code_1, code_2, count(*) AS basket_count
  FROM (
    SELECT code_1, code_2 FROM two_item_basket_pairs
    UNION ALL
    SELECT code_1, code_2 FROM larger_basket_pairs
  ) p
  GROUP BY code_1, code_2
),
frequent_pairs AS (
  SELECT c.code_1, c.code_2, c.basket_count
  FROM pair_counts c
  CROSS JOIN basket_total t
  WHERE CAST(c.basket_count AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
),
triple_counts AS (
  -- Apriori: a frequent triple starts with a frequent pair, and needs a basket of three items.
  SELECT p.code_1, p.code_2, c.item_code AS code_3, count(*) AS basket_count
  FROM larger_basket_pairs p
  JOIN frequent_pairs f ON p.code_1 = f.code_1 AND p.code_2 = f.code_2
  JOIN basket_items c ON c.basket_id = p.basket_id AND c.item_code > p.code_2
  WHERE c.basket_size >= 3
  GROUP BY p.code_1, p.code_2, c.item_code
),
frequent_triples AS (
  SELECT c.code_1, c.code_2, c.code_3, c.basket_count
  FROM triple_counts c
  CROSS JOIN basket_total t
  WHERE CAST(c.basket_count AS DOUBLE) / t.baskets >= CAST(:min_support AS DOUBLE)
),
itemsets AS (
  SELECT item_code AS code_1, CAST(NULL AS INT) AS code_2, CAST(NULL AS INT) AS code_3, 1 AS length, basket_count
  FROM frequent_items
  UNION ALL
  SELECT code_1, code_2, CAST(NULL AS INT), 2, basket_count FROM frequent_pairs
  UNION ALL
  SELECT code_1, code_2, code_3, 3, basket_count FROM frequent_triples
)
SELECT
  i1.item AS item_1,
  i2.item AS item_2,
  i3.item AS item_3,
  CAST(s.length AS INT) AS length,
  CAST(s.basket_count AS BIGINT) AS basket_count,
  CAST(s.basket_count AS DOUBLE) / t.baskets AS support
FROM itemsets s
CROSS JOIN basket_total t
JOIN frequent_items i1 ON i1.item_code = s.code_1
LEFT JOIN frequent_items i2 ON i2.item_code = s.code_2
LEFT JOIN frequent_items i3 ON i3.item_code = s.code_3;

-- COMMAND ----------

-- DBTITLE 1,Check: itemsets are frequent, ordered and at most three items long
SELECT assert_true(
  bad_itemsets = 0,
  concat('gold.frequent_itemsets: ', CAST(bad_itemsets AS STRING),
         ' itemsets are below min_support, out of name order or of a wrong length'))
FROM (
  SELECT count_if(
    support < CAST(:min_support AS DOUBLE) OR support > 1
    OR length NOT BETWEEN 1 AND 3
    OR (length = 1 AND (item_2 IS NOT NULL OR item_3 IS NOT NULL))
    OR (length = 2 AND (item_2 IS NULL OR item_3 IS NOT NULL OR item_1 >= item_2))
    OR (length = 3 AND (item_3 IS NULL OR item_1 >= item_2 OR item_2 >= item_3))) AS bad_itemsets
  FROM gold.frequent_itemsets
) checked;

-- COMMAND ----------

-- DBTITLE 1,Association rules
CREATE OR REPLACE TABLE gold.association_rules USING DELTA AS
WITH singles AS (
  SELECT item_1 AS item, support FROM gold.frequent_itemsets WHERE length = 1
),
pairs AS (
  SELECT item_1, item_2, support FROM gold.frequent_itemsets WHERE length = 2
),
triples AS (
  SELECT item_1, item_2, item_3, support FROM gold.frequent_itemsets WHERE length = 3
),
splits AS (
  -- Every split of an itemset into antecedent and consequent; items stay in name order.
  SELECT item_1 AS antecedent_1, CAST(NULL AS STRING) AS antecedent_2,
         item_2 AS consequent_1, CAST(NULL AS STRING) AS consequent_2, support
  FROM pairs
  UNION ALL SELECT item_2, NULL, item_1, NULL, support FROM pairs
  UNION ALL SELECT item_1, NULL, item_2, item_3, support FROM triples
  UNION ALL SELECT item_2, NULL, item_1, item_3, support FROM triples
  UNION ALL SELECT item_3, NULL, item_1, item_2, support FROM triples
  UNION ALL SELECT item_1, item_2, item_3, NULL, support FROM triples
  UNION ALL SELECT item_1, item_3, item_2, NULL, support FROM triples
  UNION ALL SELECT item_2, item_3, item_1, NULL, support FROM triples
),
supported AS (
  SELECT
    s.antecedent_1, s.antecedent_2, s.consequent_1, s.consequent_2,
    coalesce(a1.support, a2.support) AS antecedent_support,
    coalesce(c1.support, c2.support) AS consequent_support,
    s.support
  FROM splits s
  LEFT JOIN singles a1 ON s.antecedent_2 IS NULL AND a1.item = s.antecedent_1
  LEFT JOIN pairs a2 ON a2.item_1 = s.antecedent_1 AND a2.item_2 = s.antecedent_2
  LEFT JOIN singles c1 ON s.consequent_2 IS NULL AND c1.item = s.consequent_1
  LEFT JOIN pairs c2 ON c2.item_1 = s.consequent_1 AND c2.item_2 = s.consequent_2
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
  concat_ws(', ', antecedent_1, antecedent_2) AS antecedents,
  concat_ws(', ', consequent_1, consequent_2) AS consequents,
  antecedent_1, antecedent_2, consequent_1, consequent_2,
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
  SELECT count_if(
    antecedent_support IS NULL OR consequent_support IS NULL
    OR support > antecedent_support OR support > consequent_support
    OR confidence <= 0 OR confidence > 1 OR lift <= 0
    OR jaccard <= 0 OR jaccard > 1 OR kulczynski <= 0 OR kulczynski > 1) AS bad_rules
  FROM gold.association_rules
) checked;

-- COMMAND ----------

-- DBTITLE 1,Top rules by lift
SELECT antecedents, consequents, support, confidence, lift
FROM gold.association_rules
ORDER BY lift DESC, antecedents, consequents
LIMIT 10;
