DROP TABLE article_search;
DROP TABLE article_search_rows;
DROP TABLE ticket_search;
DROP TABLE ticket_search_rows;
