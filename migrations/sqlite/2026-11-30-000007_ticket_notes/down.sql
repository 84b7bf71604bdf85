DROP TABLE ticket_notes;
