-- OCPI 2.2.1 Sessions push (issue 20.2): what each eMSP party last got of a session of its
-- token at our charge points (PUT to its Sessions receiver); a session is pushed again when
-- its last_updated moves (a running one at each site snapshot, then once finished).
CREATE TABLE ocpi_sessions_pushed (
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    session_id TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (party_row, session_id)
);
