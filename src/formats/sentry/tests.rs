//! Tests of the Sentry importer and writer.
