-- Each run of `hotline archive`: the record written before `cutoff` left the database then, into
-- the files its manifest names. Figures of a period before the latest cutoff would be missing
-- what left, so they are refused rather than computed short.
CREATE TABLE archives (
    id TEXT PRIMARY KEY NOT NULL,
    before_month TEXT NOT NULL,
    cutoff TIMESTAMP NOT NULL,
    archived_rows BIGINT NOT NULL,
    manifest TEXT NOT NULL,
    archived_at TIMESTAMP NOT NULL
);
