// Child-process body for the credential crash test: changes the store of argv[2] in a loop and
// prints one line per change only after it returned (was fsynced): "device <id>" or "key <secret>".
// Runs compiled (dist/test/helpers/credential-writer.js); the test SIGKILLs it mid-stream.
import { CredentialStore } from '../../src/auth/index.js';

const dataDir = process.argv[2]!;
const round = process.argv[3]!;
const store = CredentialStore.open(dataDir, { log: () => undefined });
for (let i = 0; ; i++) {
  const device = `r${round}-${i}`;
  store.createDevice('p', device);
  process.stdout.write(`device ${device}\n`);
  const key = store.createOneNetKey('p', { device, permissions: ['write'] });
  process.stdout.write(`key ${key.secret}\n`);
}
