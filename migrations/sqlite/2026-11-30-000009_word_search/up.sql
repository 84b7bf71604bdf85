-- Word search: each ticket and article is indexed under the pairs of adjacent characters of
-- its words, computed by the service (Chinese has no spaces to split on). The index keeps only
-- the terms (contentless, no positions); the texts stay in their tables and found rows are
-- checked against them.
--
-- FTS5 names its rows by integer: `*_search_rows` gives each ticket or article its own, with
-- an INTEGER PRIMARY KEY, which unlike the implicit rowid of a table keyed by text no VACUUM
-- renumbers. The `ascii` tokenizer splits on ASCII spaces and punctuation only and leaves other
-- characters as they are: the terms reach the index exactly as they were computed.
CREATE TABLE ticket_search_rows (
    row INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL UNIQUE REFERENCES tickets (id)
);
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    terms, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE TABLE article_search_rows (
    row INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE REFERENCES knowledge_articles (id)
);
CREATE VIRTUAL TABLE article_search USING fts5 (
    terms, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
