-- GET /ipfs/:cid looks up whether a CID is an upload whose registration is not anchored yet.
CREATE INDEX uploads_cid ON uploads (cid);
