-- An article's terms become rows of a B-tree, read from the index alone: the keys of the
-- thousand articles a common word is in come from a few index pages, where through GIN they
-- came from most of the articles' wide `tsvector` rows. `article_search` keeps a row per
-- article indexed, as SQLite's `article_search_rows` does.
-- No foreign key: an article's hundred terms are written with it, and a check for each would
-- cost more than the rest of the save; `store::search` alone writes them, for an article it
-- has just indexed.
CREATE TABLE article_search_terms (
    term TEXT NOT NULL,
    article_id TEXT NOT NULL
);
INSERT INTO article_search_terms (term, article_id)
SELECT unnest(tsvector_to_array(terms)), article_id FROM article_search;
ALTER TABLE article_search_terms ADD PRIMARY KEY (term, article_id);
-- An article indexed again drops its old terms.
CREATE INDEX article_search_terms_article_idx ON article_search_terms (article_id);
ALTER TABLE article_search DROP COLUMN terms;
