-- An article's terms become one row per pair of characters, with the parts holding it as bits
-- (title 1, keywords 2, body 4): a question's pair is read once per article rather than once
-- per part, and which parts hold the whole question is the AND of its pairs' bits.
CREATE TABLE article_search_pairs (
    pair TEXT NOT NULL,
    article_id TEXT NOT NULL,
    parts SMALLINT NOT NULL
);
INSERT INTO article_search_pairs (pair, article_id, parts)
SELECT substr(term, 2), article_id,
       CAST(bit_or(CASE left(term, 1) WHEN 't' THEN 1 WHEN 'k' THEN 2 ELSE 4 END) AS SMALLINT)
FROM article_search_terms
GROUP BY substr(term, 2), article_id;
-- The parts ride in the key's index, so that a search reads the index alone.
ALTER TABLE article_search_pairs ADD PRIMARY KEY (pair, article_id) INCLUDE (parts);
-- An article indexed again drops its old pairs.
CREATE INDEX article_search_pairs_article_idx ON article_search_pairs (article_id);
DROP TABLE article_search_terms;
