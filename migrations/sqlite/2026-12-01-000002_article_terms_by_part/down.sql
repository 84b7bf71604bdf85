DROP INDEX knowledge_articles_rank_idx;
-- The articles are indexed again, by the terms of the service that runs: emptied here, the
-- start-up indexes every article again.
DROP TABLE article_search;
DELETE FROM article_search_rows;
CREATE VIRTUAL TABLE article_search USING fts5 (
    terms, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
