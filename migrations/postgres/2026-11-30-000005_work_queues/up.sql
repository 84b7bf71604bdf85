-- Extension requests waiting for the office, oldest first, without reading the decided ones.
CREATE INDEX extension_requests_status_idx ON extension_requests (status, requested_at, id);
