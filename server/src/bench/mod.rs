//! `seedbed bench s3`: a load generator for S3 endpoints (see the submodules).
