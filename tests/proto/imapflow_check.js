// The IMAP work a phone or web client does through imapflow (the Node
// library behind many of them), against onebox: STARTTLS login, SELECT
// with CONDSTORE, FETCH of ENVELOPE/BODYSTRUCTURE, a part downloaded and
// decoded, a conditional flag change, a resync by CHANGEDSINCE, SEARCH,
// QRESYNC enabled and a deletion reported by VANISHED.
// Prints one JSON object for test_imap_imapflow.py to check.
// usage: node imapflow_check.js MODULES_DIR HOST PORT USER PASSWORD
const path = require('path');
const { ImapFlow } = require(path.join(process.argv[2], 'imapflow'));

async function main() {
    const [, , , host, port, user, pass] = process.argv;
    const client = new ImapFlow({
        host, port: Number(port), secure: false, auth: { user, pass },
        tls: { rejectUnauthorized: false }, logger: false, qresync: true,
    });
    const out = { expunged: [] };
    client.on('expunge', (e) => out.expunged.push({ uid: e.uid, seq: e.seq, vanished: !!e.vanished }));
    await client.connect();
    out.capabilities = [...client.capabilities.keys()];
    const mb = await client.mailboxOpen('INBOX');
    out.exists = mb.exists;
    out.highestModseq = String(mb.highestModseq);
    out.messages = [];
    for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true })) {
        out.messages.push({
            uid: m.uid, modseq: String(m.modseq), flags: [...m.flags], subject: m.envelope.subject,
            from: m.envelope.from, date: m.envelope.date, structure: m.bodyStructure,
        });
    }
    const dl = await client.download('1', '2');
    const chunks = [];
    for await (const c of dl.content)
        chunks.push(c);
    out.part2 = Buffer.concat(chunks).toString('base64');
    out.part2meta = dl.meta;
    const before = mb.highestModseq;
    out.flagged = await client.messageFlagsAdd('1', ['\\Flagged'], { unchangedSince: before });
    out.refused = await client.messageFlagsAdd('1', ['$Later'], { unchangedSince: before });
    out.changed = [];
    for await (const m of client.fetch('1:*', { flags: true }, { changedSince: before }))
        out.changed.push({ seq: m.seq, modseq: String(m.modseq), flags: [...m.flags] });
    out.search = await client.search({ subject: 'café', body: 'the report' });
    out.searchModseq = await client.search({ modseq: BigInt(before) + 1n });
    await client.append('INBOX', 'Subject: second\r\n\r\nbye\r\n');
    out.deleted = await client.messageDelete('2', { uid: true });
    out.enabled = [...client.enabled];
    await client.logout();
    console.log(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? String(v) : v));
}

main().catch((e) => { console.error(e); process.exit(1); });
