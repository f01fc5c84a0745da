-- An installation order may name the charge-point plan the customer chose (and whether the
-- service starts at once, art. 29.1): its approval then starts that subscription, in the
-- same transaction as the charge point it adds (issue 20.1).
ALTER TABLE installation_orders ADD COLUMN plan_code TEXT REFERENCES plans (code);
ALTER TABLE installation_orders ADD COLUMN immediate_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE installation_orders ADD COLUMN subscription_id BIGINT REFERENCES subscriptions (id);
