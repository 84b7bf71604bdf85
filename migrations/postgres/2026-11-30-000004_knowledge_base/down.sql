DELETE FROM notifications WHERE article_id IS NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_subject_check;
ALTER TABLE notifications DROP COLUMN article_id;
ALTER TABLE notifications ALTER COLUMN ticket_id SET NOT NULL;
DROP TABLE knowledge_citations;
DROP TABLE knowledge_article_versions;
DROP TABLE knowledge_articles;
