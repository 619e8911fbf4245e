/**
 * Connections to Temporal from the config: a local dev server (plain TCP), a self-hosted cluster (TLS, optional mTLS
 * client certificate, custom CA and server name) or Temporal Cloud (mTLS or an API key).
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConfig } from './config';

/** The `tls` option shared by Connection and NativeConnection; undefined means plain TCP. */
function tlsOptions(cfg: TemporalConfig): TLSConfig | undefined {
  if (!cfg.tls) return undefined;
  const tls: TLSConfig = {};
  if (cfg.tlsServerName) tls.serverNameOverride = cfg.tlsServerName;
  if (cfg.tlsCaPath) tls.serverRootCACertificate = readFileSync(cfg.tlsCaPath);
  if (cfg.tlsCertPath && cfg.tlsKeyPath) tls.clientCertPair = { crt: readFileSync(cfg.tlsCertPath), key: readFileSync(cfg.tlsKeyPath) };
  return tls;
}

/** A client for starting, signalling and querying workflows. Close with `connection.close()`. */
export async function connectTemporal(cfg: TemporalConfig): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address: cfg.address, tls: tlsOptions(cfg), apiKey: cfg.apiKey || undefined });
  return { connection, client: new Client({ connection, namespace: cfg.namespace }) };
}

/** The native (Rust core) connection a Worker needs. Close it after the worker has stopped. */
export async function connectNativeTemporal(cfg: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: cfg.address, tls: tlsOptions(cfg), apiKey: cfg.apiKey || undefined });
}
