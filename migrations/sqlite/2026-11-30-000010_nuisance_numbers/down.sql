ALTER TABLE tickets DROP COLUMN nuisance_number_id;
DROP TABLE nuisance_numbers;
