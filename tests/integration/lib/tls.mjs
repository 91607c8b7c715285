// TLS material for the tests, made with the openssl CLI into a temp dir at test time: a CA, a
// server certificate for 127.0.0.1/localhost and a client certificate, both signed by the CA,
// plus a second CA that signed neither.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { temp_dir } from './gateway.mjs';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// A certificate `name` (.pem/.key in `dir`) for `cn`, signed by the CA in `dir` (ca.pem/ca.key).
function signed(dir, name, cn, ext) {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

function self_signed_ca(dir, name, cn) {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.pem`], dir);
}

let made;

// Paths (and PEM contents) of the test certificates: {dir, ca, server_cert, server_key,
// client_cert, client_key, other_ca, pem: {ca, client_cert, client_key, other_ca}}.
export function tls_files() {
  if (made) return made;
  const dir = temp_dir();
  self_signed_ca(dir, 'ca', 'otlpgate test CA');
  self_signed_ca(dir, 'other_ca', 'another CA');
  signed(dir, 'server', 'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', 'client-a', 'extendedKeyUsage=clientAuth\n');
  const p = (f) => path.join(dir, f);
  const read = (f) => fs.readFileSync(p(f));
  made = {
    dir, ca: p('ca.pem'), server_cert: p('server.pem'), server_key: p('server.key'),
    client_cert: p('client.pem'), client_key: p('client.key'), other_ca: p('other_ca.pem'),
    pem: { ca: read('ca.pem'), client_cert: read('client.pem'), client_key: read('client.key'), other_ca: read('other_ca.pem') },
  };
  return made;
}

// YAML lines (indented `indent` spaces) of a listener's tls block with the test server
// certificate; `client_ca: true` requires client certificates signed by the test CA.
export function tls_yaml(indent, { client_ca = false, min_version } = {}) {
  const f = tls_files();
  const pad = ' '.repeat(indent);
  return `${pad}tls:\n${pad}  cert_file: ${f.server_cert}\n${pad}  key_file: ${f.server_key}\n` +
    (client_ca ? `${pad}  client_ca_file: ${f.ca}\n` : '') +
    (min_version ? `${pad}  min_version: "${min_version}"\n` : '');
}

// Client TLS options for node's https / tls: trust the test CA; `client_cert: true` presents the
// client certificate.
export function client_tls({ client_cert = false, ...more } = {}) {
  const f = tls_files();
  return { ca: f.pem.ca, servername: 'localhost', ...(client_cert ? { cert: f.pem.client_cert, key: f.pem.client_key } : {}), ...more };
}
