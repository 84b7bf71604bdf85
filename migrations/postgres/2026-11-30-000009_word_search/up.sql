-- Word search: each ticket and article is indexed under the pairs of adjacent characters of
-- its words, computed by the service (Chinese has no spaces to split on) and stored as a
-- tsvector built from the terms as they are (`array_to_tsvector`: no parser, no dictionary),
-- beside the row rather than in it, so that the lists' rows stay narrow. Found rows are checked
-- against their texts.
CREATE TABLE ticket_search (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
    terms TSVECTOR NOT NULL
);
CREATE INDEX ticket_search_terms_idx ON ticket_search USING gin (terms);
CREATE TABLE article_search (
    article_id TEXT PRIMARY KEY REFERENCES knowledge_articles (id),
    terms TSVECTOR NOT NULL
);
CREATE INDEX article_search_terms_idx ON article_search USING gin (terms);
