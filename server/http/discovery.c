/*
 * discovery - how mail programs find their settings by themselves:
 * Thunderbird autoconfig, Outlook Autodiscover (POX and the JSON that new
 * Outlook asks first), and an Apple configuration profile.
 *
 * Each answers only for our domains, and the same for every address in
 * one: whether a mailbox exists is never looked up, so these pages cannot
 * be used to find valid addresses.  The server name is the config's
 * hostname; the ports are the first of each listener key, and a protocol
 * is offered only when its listeners are configured.  Where one incoming
 * protocol must be chosen (Outlook's POX, the Apple profile), IMAP is
 * preferred and POP3 taken when IMAP is off; implicit TLS is preferred
 * over STARTTLS.
 */
#include "http.h"
#include "addr.h"
#include "db.h"
#include "discovery.h"
#include "str.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mailcfg {
	char address[ADDR_FORMAT_MAX];	/* "" when only the domain is known */
	char domain[ADDR_DOMAIN_MAX + 1];
	const char *host;
	int imaps, imap, pop3s, pop3, submissions, submission;
};

static int
port_of(enum conf_service s, int def)
{
	const struct conf_list *l = &httpd.svc.conf->listen[s];
	return l->n ? l->v[0].port : def;
}

/* our_domain - d (any case, U-labels allowed) as an A-label domain of
 * ours in out; 0, or -1. */
static int
our_domain(const char *d, char *out, size_t outsz)
{
	struct db_domain dom;
	const char *err;

	if (strlen(d) >= outsz || !addr_domain_valid(d, ADDR_ALLOW_UTF8))
		return -1;
	str_lcpy(out, d, outsz);
	if (addr_domain_to_ascii(str_lower(out), &err) < 0)
		return -1;
	db_changed(httpd.svc.db);
	if (db_domain_get(httpd.svc.db, out, &dom) != 1)
		return -1;
	db_domain_free(&dom);
	return 0;
}

/* mailcfg_for - the settings for address (or, when it is NULL, for the
 * domain named by the host autoconfig.DOMAIN); 0, or -1: not ours. */
static int
mailcfg_for(struct http_req *req, const char *address, struct mailcfg *m)
{
	struct mailaddr a;
	const char *err;

	memset(m, 0, sizeof(*m));
	if (address && address[0]) {
		if (addr_parse(address, ADDR_ALLOW_UTF8, &a, &err) < 0 ||
		    our_domain(a.domain, m->domain, sizeof(m->domain)) < 0)
			return -1;
		str_lcpy(a.domain, m->domain, sizeof(a.domain));
		addr_format(&a, m->address, sizeof(m->address));
	} else {
		char host[300];
		if (req->host == NULL || strncasecmp(req->host, "autoconfig.", 11) != 0)
			return -1;
		str_lcpy(host, req->host + 11, sizeof(host));
		host[strcspn(host, ":")] = '\0';
		if (our_domain(host, m->domain, sizeof(m->domain)) < 0)
			return -1;
	}
	m->host = httpd.svc.conf->hostname;
	m->imaps = port_of(SVC_IMAPS, 0);
	m->imap = port_of(SVC_IMAP, 0);
	m->pop3s = port_of(SVC_POP3S, 0);
	m->pop3 = port_of(SVC_POP3, 0);
	m->submissions = port_of(SVC_SUBMISSIONS, 0);
	m->submission = port_of(SVC_SUBMISSION, 0);
	return 0;
}

static void
not_ours(struct http_resp *resp)
{
	http_error(resp, MHD_HTTP_NOT_FOUND, "This server holds no mail for that domain.");
}

/* ---- Thunderbird: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat ---- */

static void
tb_server(struct buf *b, const char *kind, const char *type, const char *host, int port, const char *socket)
{
	if (port == 0)
		return;
	html_printf(b, "    <%r type=\"%r\">\n      <hostname>%s</hostname>\n      <port>%d</port>\n"
	    "      <socketType>%r</socketType>\n      <authentication>password-cleartext</authentication>\n"
	    "      <username>%%EMAILADDRESS%%</username>\n    </%r>\n", kind, type, host, port, socket, kind);
}

static void
autoconfig(struct http_req *req, struct http_resp *resp)
{
	struct mailcfg m;
	struct buf *b = &resp->body;

	if (mailcfg_for(req, http_arg(req, "emailaddress"), &m) < 0)
		return not_ours(resp);
	resp->type = "application/xml; charset=utf-8";
	html_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
	    "  <emailProvider id=\"%s\">\n    <domain>%s</domain>\n    <displayName>%s mail</displayName>\n"
	    "    <displayShortName>%s</displayShortName>\n", m.domain, m.domain, m.domain, m.domain);
	tb_server(b, "incomingServer", "imap", m.host, m.imaps, "SSL");
	tb_server(b, "incomingServer", "imap", m.host, m.imap, "STARTTLS");
	tb_server(b, "incomingServer", "pop3", m.host, m.pop3s, "SSL");
	tb_server(b, "incomingServer", "pop3", m.host, m.pop3, "STARTTLS");
	tb_server(b, "outgoingServer", "smtp", m.host, m.submissions, "SSL");
	tb_server(b, "outgoingServer", "smtp", m.host, m.submission, "STARTTLS");
	buf_adds(b, "  </emailProvider>\n</clientConfig>\n");
}

/* ---- Outlook Autodiscover (POX, [MS-OXDSCLI]) ---- */

static void
pox_protocol(struct buf *b, const char *type, const struct mailcfg *m, int port, int ssl)
{
	if (port == 0)
		return;
	html_printf(b, "      <Protocol>\n        <Type>%r</Type>\n        <Server>%s</Server>\n"
	    "        <Port>%d</Port>\n        <DomainRequired>off</DomainRequired>\n"
	    "        <LoginName>%s</LoginName>\n        <SPA>off</SPA>\n        <SSL>%r</SSL>\n"
	    "%r        <AuthRequired>on</AuthRequired>\n      </Protocol>\n", type, m->host, port,
	    m->address, ssl ? "on" : "off", ssl ? "" : "        <Encryption>TLS</Encryption>\n");
}

static void
autodiscover_xml(struct http_req *req, struct http_resp *resp)
{
	char email[ADDR_FORMAT_MAX];
	struct mailcfg m;
	struct buf *b = &resp->body;

	if (discovery_pox_email(buf_rptr(&req->body) ? buf_rptr(&req->body) : "", req->body.len,
	    email, sizeof(email)) < 0)
		return http_error(resp, MHD_HTTP_BAD_REQUEST, "The request names no e-mail address.");
	if (mailcfg_for(req, email, &m) < 0)
		return not_ours(resp);
	resp->type = "application/xml; charset=utf-8";
	html_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
	    "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
	    "    <User>\n      <DisplayName>%s</DisplayName>\n    </User>\n"
	    "    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n",
	    m.address);
	if (m.imaps)
		pox_protocol(b, "IMAP", &m, m.imaps, 1);
	else if (m.imap)
		pox_protocol(b, "IMAP", &m, m.imap, 0);
	else if (m.pop3s)
		pox_protocol(b, "POP3", &m, m.pop3s, 1);
	else
		pox_protocol(b, "POP3", &m, m.pop3, 0);
	if (m.submissions)
		pox_protocol(b, "SMTP", &m, m.submissions, 1);
	else
		pox_protocol(b, "SMTP", &m, m.submission, 0);
	buf_adds(b, "    </Account>\n  </Response>\n</Autodiscover>\n");
}

/*
 * autodiscover_json - new Outlook asks for the URL of a protocol's
 * endpoint first.  AutodiscoverV1 is answered with our POX URL (which
 * then gives IMAP and SMTP); anything else (EWS, ActiveSync) with the
 * error Exchange gives for a protocol it lacks, so Outlook does not set up
 * an Exchange account and goes on to the IMAP settings.
 */
static void
autodiscover_json(struct http_req *req, struct http_resp *resp)
{
	const char *proto = http_arg(req, "Protocol");
	const char *email = http_arg(req, "Email");
	const char *rest = req->path + strlen("/autodiscover/autodiscover.json");
	const struct conf_list *l = &httpd.svc.conf->listen[SVC_HTTPS];
	struct mailcfg m;

	/* also /autodiscover/autodiscover.json/v1.0/ADDRESS?Protocol=... */
	if (email == NULL && strncasecmp(rest, "/v1.0/", 6) == 0)
		email = rest + 6;
	if (email == NULL || mailcfg_for(req, email, &m) < 0)
		return not_ours(resp);
	resp->type = "application/json; charset=utf-8";
	if (proto == NULL || strcasecmp(proto, "AutodiscoverV1") != 0) {
		resp->status = MHD_HTTP_BAD_REQUEST;
		buf_adds(&resp->body, "{\"ErrorCode\":\"ProtocolNotSupported\","
		    "\"ErrorMessage\":\"The given protocol value is invalid. Supported values are 'AutodiscoverV1'.\"}\n");
		return;
	}
	/* a host name holds no character JSON must escape (config.c checks it) */
	if (l->n == 0 || l->v[0].port == 443)
		buf_printf(&resp->body, "{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"https://%s/autodiscover/autodiscover.xml\"}\n",
		    m.host);
	else
		buf_printf(&resp->body, "{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"https://%s:%d/autodiscover/autodiscover.xml\"}\n",
		    m.host, l->v[0].port);
}

/* ---- Apple: a configuration profile (com.apple.mail.managed), no password ---- */

static void
uuid(char out[37])
{
	char hex[33];

	str_random_hex(hex, 16);
	snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", hex, hex + 8, hex + 13, hex + 17, hex + 20);
}

static void
plist_key(struct buf *b, const char *key, const char *type, const char *value)
{
	if (strcmp(type, "true") == 0 || strcmp(type, "false") == 0)
		html_printf(b, "      <key>%s</key><%r/>\n", key, type);
	else
		html_printf(b, "      <key>%s</key><%r>%s</%r>\n", key, type, value, type);
}

static void
mobileconfig(struct http_req *req, struct http_resp *resp)
{
	struct mailcfg m;
	struct buf *b = &resp->body;
	char u1[37], u2[37], port_in[16], port_out[16], id[600];
	int use_imap, in_ssl, out_ssl;

	if (mailcfg_for(req, http_arg(req, "emailaddress"), &m) < 0 || m.address[0] == '\0')
		return not_ours(resp);
	use_imap = m.imaps || m.imap || !(m.pop3s || m.pop3);
	in_ssl = use_imap ? m.imaps != 0 : m.pop3s != 0;
	out_ssl = m.submissions != 0;
	snprintf(port_in, sizeof(port_in), "%d", use_imap ? (in_ssl ? m.imaps : m.imap) : (in_ssl ? m.pop3s : m.pop3));
	snprintf(port_out, sizeof(port_out), "%d", out_ssl ? m.submissions : m.submission);
	snprintf(id, sizeof(id), "onebox.%s", m.host);
	uuid(u1);
	uuid(u2);
	resp->type = "application/x-apple-aspen-config";
	resp->disposition = xasprintf("attachment; filename=\"%s.mobileconfig\"", m.domain);
	html_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	    "<plist version=\"1.0\">\n<dict>\n  <key>PayloadContent</key>\n  <array>\n    <dict>\n");
	plist_key(b, "EmailAccountDescription", "string", m.address);
	plist_key(b, "EmailAccountType", "string", use_imap ? "EmailTypeIMAP" : "EmailTypePOP");
	plist_key(b, "EmailAddress", "string", m.address);
	plist_key(b, "IncomingMailServerAuthentication", "string", "EmailAuthPassword");
	plist_key(b, "IncomingMailServerHostName", "string", m.host);
	plist_key(b, "IncomingMailServerPortNumber", "integer", port_in);
	plist_key(b, "IncomingMailServerUseSSL", in_ssl ? "true" : "false", NULL);
	plist_key(b, "IncomingMailServerUsername", "string", m.address);
	plist_key(b, "OutgoingMailServerAuthentication", "string", "EmailAuthPassword");
	plist_key(b, "OutgoingMailServerHostName", "string", m.host);
	plist_key(b, "OutgoingMailServerPortNumber", "integer", port_out);
	plist_key(b, "OutgoingMailServerUseSSL", out_ssl ? "true" : "false", NULL);
	plist_key(b, "OutgoingMailServerUsername", "string", m.address);
	plist_key(b, "OutgoingPasswordSameAsIncomingPassword", "true", NULL);
	plist_key(b, "PayloadDisplayName", "string", m.address);
	snprintf(id + strlen(id), sizeof(id) - strlen(id), ".mail.%s", m.address);
	plist_key(b, "PayloadIdentifier", "string", id);
	plist_key(b, "PayloadType", "string", "com.apple.mail.managed");
	plist_key(b, "PayloadUUID", "string", u1);
	plist_key(b, "PayloadVersion", "integer", "1");
	buf_adds(b, "    </dict>\n  </array>\n");
	html_printf(b, "  <key>PayloadDisplayName</key><string>Mail on %s</string>\n"
	    "  <key>PayloadIdentifier</key><string>onebox.%s.profile</string>\n"
	    "  <key>PayloadRemovalDisallowed</key><false/>\n"
	    "  <key>PayloadType</key><string>Configuration</string>\n"
	    "  <key>PayloadUUID</key><string>%s</string>\n"
	    "  <key>PayloadVersion</key><integer>1</integer>\n</dict>\n</plist>\n", m.domain, m.host, u2);
}

const struct http_route discovery_routes[] = {
	{ "/.well-known/autoconfig/mail/config-v1.1.xml", HTTP_GET, 1, 0, autoconfig },
	{ "/mail/config-v1.1.xml", HTTP_GET, 1, 0, autoconfig },
	{ "/autodiscover/autodiscover.xml", HTTP_POST, 0, 1, autodiscover_xml },
	{ "/autodiscover/autodiscover.json", HTTP_GET, 0, 1, autodiscover_json },
	{ "/autodiscover/autodiscover.json/*", HTTP_GET, 0, 1, autodiscover_json },
	{ "/apple/onebox.mobileconfig", HTTP_GET, 0, 0, mobileconfig },
	{ NULL, 0, 0, 0, NULL }
};
