ALTER TABLE article_search ADD COLUMN terms TSVECTOR NOT NULL DEFAULT '';
UPDATE article_search s SET terms = array_to_tsvector(ARRAY(
    SELECT t.term FROM article_search_terms t WHERE t.article_id = s.article_id
));
ALTER TABLE article_search ALTER COLUMN terms DROP DEFAULT;
CREATE INDEX article_search_terms_idx ON article_search USING gin (terms);
DROP TABLE article_search_terms;
