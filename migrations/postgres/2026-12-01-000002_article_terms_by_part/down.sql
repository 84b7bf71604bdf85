DROP INDEX knowledge_articles_rank_idx;
-- The articles are indexed again, by the terms of the service that runs: emptied here, the
-- start-up indexes every article again.
DELETE FROM article_search;
