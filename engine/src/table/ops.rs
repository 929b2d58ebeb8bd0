//! One entry point for every operation: [`Tables::execute`].

use super::error::Result;
use super::request::{Request, Response};
use super::store::Tables;

impl Tables {
    /// Run one request.
    pub fn execute(&self, req: &Request) -> Result<Response> {
        Ok(match req {
            Request::CreateTable(i) => Response::Table(Box::new(self.create_table(i)?)),
            Request::DescribeTable(n) => Response::Table(Box::new(self.describe_table(n)?)),
            Request::UpdateTable(i) => Response::Table(Box::new(self.update_table(i)?)),
            Request::TagResource(arn, tags) => {
                self.tag_resource(arn, tags)?;
                Response::Empty
            }
            Request::UntagResource(arn, keys) => {
                self.untag_resource(arn, keys)?;
                Response::Empty
            }
            Request::ListTagsOfResource(arn) => Response::Tags(self.list_tags_of_resource(arn)?),
            Request::DescribeLimits => Response::Limits(super::update::Limits::DYNAMODB),
            Request::ListStreams(table, limit, start) => {
                let (streams, last) =
                    self.list_streams(table.as_deref(), *limit, start.as_deref())?;
                Response::Streams(streams, last)
            }
            Request::DescribeStream(arn, after) => {
                let info = self.describe_stream(arn)?;
                let shard = info.stream.shard_id(&info.def);
                // Shards are listed in ShardId order, after ExclusiveStartShardId: an id that
                // is none of the stream's still pages by order (DynamoDB answers an id after
                // every shard with no shards, not an error).
                let listed = after.as_deref().is_none_or(|a| shard.as_str() > a);
                Response::Stream(Box::new(info), listed)
            }
            Request::GetShardIterator(arn, shard, kind, seq) => Response::ShardIterator(
                self.get_shard_iterator(arn, shard, kind, seq.as_deref())?,
            ),
            Request::GetRecords(it, limit) => {
                let (records, next) = self.get_records(it, *limit)?;
                Response::Records(records, next)
            }
            Request::ListTables(start, limit) => {
                let (names, last) = self.list_tables(start.as_deref(), *limit)?;
                Response::Tables(names, last)
            }
            Request::DeleteTable(n) => Response::Table(Box::new(self.delete_table(n)?)),
            Request::UpdateTimeToLive(t, a, e) => Response::Ttl(Some(self.update_ttl(t, a, *e)?)),
            Request::DescribeTimeToLive(t) => Response::Ttl(self.describe_ttl(t)?),
            Request::UpdateContinuousBackups(t, on) => {
                Response::ContinuousBackups(self.update_continuous_backups(t, *on)?)
            }
            Request::DescribeContinuousBackups(t) => {
                Response::ContinuousBackups(self.describe_continuous_backups(t)?)
            }
            Request::PutResourcePolicy(arn, doc, expected) => Response::ResourcePolicy(
                None,
                self.put_resource_policy(arn, doc, expected.as_deref())?,
            ),
            Request::GetResourcePolicy(arn) => {
                let p = self.get_resource_policy(arn)?;
                Response::ResourcePolicy(Some(p.document), p.revision)
            }
            Request::DeleteResourcePolicy(arn, expected) => Response::ResourcePolicy(
                None,
                self.delete_resource_policy(arn, expected.as_deref())?,
            ),
            Request::ExecuteStatement(s) => Response::Statement(self.execute_statement(s)?),
            Request::BatchExecuteStatement(s) => {
                Response::BatchStatement(self.batch_execute_statement(s)?)
            }
            Request::ExecuteTransaction(s, token) => {
                Response::TransactionStatement(self.execute_transaction(s, token.as_deref())?)
            }
            Request::GetItem(r) => Response::Get(self.get_item(r)?),
            Request::PutItem(r) => Response::Write(self.put_item(r)?),
            Request::UpdateItem(r) => Response::Write(self.update_item(r)?),
            Request::DeleteItem(r) => Response::Write(self.delete_item(r)?),
            Request::Query(r) => Response::Search(self.query(r)?),
            Request::Scan(r) => Response::Search(self.scan(r)?),
            Request::BatchGetItem(r, c) => Response::BatchGet(self.batch_get_item(r, *c)?),
            Request::BatchWriteItem(r, c) => Response::BatchWrite(self.batch_write_item(r, *c)?),
            Request::TransactWriteItems(a, t, c) => {
                Response::TransactWrite(self.transact_write_items(a, t.as_deref(), *c)?)
            }
            Request::TransactGetItems(g, c) => {
                Response::TransactGet(self.transact_get_items(g, *c)?)
            }
        })
    }
}
