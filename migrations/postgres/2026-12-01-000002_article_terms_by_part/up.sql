-- Articles are indexed under the pairs of their title, keywords and body apart, each lettered
-- with its part, so that a search ranks them from the index alone. The terms are computed by
-- the service: the index is emptied here and the start-up indexes every article again.
DELETE FROM article_search;
-- Many articles found (a common word), they are read in the order they rank in after their
-- score until the page is made up.
CREATE INDEX knowledge_articles_rank_idx ON knowledge_articles (use_count, updated_at, id);
