-- Where a refund request's decision is mailed: the address the buyer gave with it (optional).
ALTER TABLE refund_requests ADD COLUMN email text;
