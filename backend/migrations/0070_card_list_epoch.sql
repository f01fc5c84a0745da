-- The card list's history id ("epoch"). Sites remember it with their card-list version; when
-- it differs (the database was restored from a backup and `eflux-backend rotate-card-epoch`
-- ran, or a site was seen ahead of the counter), the site gets the full list and replaces its
-- own. One row, created with a random id on first use (SQL cannot make one on both engines).
CREATE TABLE card_list_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    started_version BIGINT NOT NULL,
    started_at TEXT NOT NULL
);
