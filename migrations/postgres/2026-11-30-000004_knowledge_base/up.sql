-- The knowledge base (知识库): articles kept by their units and reviewed by the office, every
-- version of each, and the direct answers that cited them.
CREATE TABLE knowledge_articles (
    id TEXT PRIMARY KEY NOT NULL,
    unit_id TEXT REFERENCES units (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'published', 'archived')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id),
    keywords TEXT NOT NULL,
    area_unit_id TEXT REFERENCES units (id),
    effective_on TEXT,
    expires_on TEXT,
    review_due_on TEXT NOT NULL,
    -- The review date of which the owning unit has been told it passed: once per date.
    review_flagged_on TEXT,
    version BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    reviewed_at TIMESTAMP,
    use_count BIGINT NOT NULL DEFAULT 0,
    last_used_at TIMESTAMP
);
CREATE INDEX knowledge_articles_updated_idx ON knowledge_articles (updated_at, id);
CREATE INDEX knowledge_articles_unit_idx ON knowledge_articles (unit_id, updated_at, id);
CREATE INDEX knowledge_articles_review_idx ON knowledge_articles (status, review_due_on);

CREATE TABLE knowledge_article_versions (
    article_id TEXT NOT NULL REFERENCES knowledge_articles (id),
    version BIGINT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('created', 'edited', 'submitted', 'published', 'rejected', 'archived', 'reviewed')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'published', 'archived')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category_id TEXT REFERENCES categories (id),
    keywords TEXT NOT NULL,
    area_unit_id TEXT REFERENCES units (id),
    effective_on TEXT,
    expires_on TEXT,
    review_due_on TEXT NOT NULL,
    note TEXT,
    changed_by TEXT NOT NULL REFERENCES users (id),
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (article_id, version)
);
CREATE INDEX knowledge_article_versions_change_idx ON knowledge_article_versions (change, changed_at);

CREATE TABLE knowledge_citations (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    article_id TEXT NOT NULL REFERENCES knowledge_articles (id),
    cited_by TEXT NOT NULL REFERENCES users (id),
    cited_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, article_id)
);
CREATE INDEX knowledge_citations_article_idx ON knowledge_citations (article_id, cited_at);

-- A notification is about a ticket or, when an article is due for review, an article.
ALTER TABLE notifications ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN article_id TEXT REFERENCES knowledge_articles (id);
ALTER TABLE notifications ADD CONSTRAINT notifications_subject_check
    CHECK ((ticket_id IS NULL) <> (article_id IS NULL));
