"""The audit index on OpenSearch (opensearch-py): index, setup, aggregations, retention."""
