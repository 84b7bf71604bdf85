DROP TABLE article_search;
DROP TABLE ticket_search;
