CREATE TABLE article_search_terms (
    term TEXT NOT NULL,
    article_id TEXT NOT NULL
);
INSERT INTO article_search_terms (term, article_id)
SELECT p.letter || s.pair, s.article_id
FROM article_search_pairs s
JOIN (VALUES ('t', 1), ('k', 2), ('b', 4)) AS p (letter, bit) ON s.parts & p.bit <> 0;
ALTER TABLE article_search_terms ADD PRIMARY KEY (term, article_id);
CREATE INDEX article_search_terms_article_idx ON article_search_terms (article_id);
DROP TABLE article_search_pairs;
