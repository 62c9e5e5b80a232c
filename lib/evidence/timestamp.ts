import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

const OID = {
  sha256: "2.16.840.1.101.3.4.2.1",
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  contentTypeAttr: "1.2.840.113549.1.9.3",
  messageDigestAttr: "1.2.840.113549.1.9.4",
  signingCertificate: "1.2.840.113549.1.9.16.2.12",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  extKeyUsage: "2.5.29.37",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  sha1: "1.3.14.3.2.26",
} as const;

const engine = new pkijs.CryptoEngine({
  name: "node",
  crypto: webcrypto as unknown as pkijs.CryptoEngineParameters["crypto"],
});

/** A time-stamp response was refused, malformed, or does not prove what it should. */
export class TimestampError extends Error {}

/** What a verified RFC 3161 token says. */
export interface TimestampInfo {
  /** When the authority saw the digest. */
  genTime: Date;
  /** The authority's serial number of the token, hex. */
  serialNumber: string;
  policy: string;
  /** The request's nonce echoed in the token, hex; absent when the request had none. */
  nonce?: string;
  /** Subject of the certificate that signed the token. */
  signer: string;
  /** The time-stamped SHA-256 digest, 0x-prefixed. */
  digest: string;
}

const toHex = (bytes: ArrayBuffer | Uint8Array) =>
  Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString("hex");

function digestBytes(digest: string): Uint8Array {
  const hex = digest.replace(/^0x/, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new TimestampError("the digest must be 32 bytes of hex (SHA-256)");
  return Buffer.from(hex, "hex");
}

/** A positive, minimally encoded 64-bit nonce. */
function freshNonce(): Uint8Array {
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01;
  return nonce;
}

/** DER of an RFC 3161 TimeStampReq over a SHA-256 digest, asking for the signer's certificate. */
export function createTimestampRequest(
  digest: string,
  nonce: Uint8Array = freshNonce(),
): { der: Uint8Array; nonce: string } {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: OID.sha256,
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: digestBytes(digest) }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  return { der: new Uint8Array(request.toSchema().toBER()), nonce: toHex(nonce) };
}

/**
 * Asks the time-stamping authority at `tsaUrl` to time-stamp `digest`, then verifies its answer
 * (status, digest, nonce, signature, and the chain when `trustedCerts` is given).
 * @returns the DER TimeStampResp, as `openssl ts -verify -in` reads it.
 */
export async function requestTimestamp(
  tsaUrl: string,
  digest: string,
  options: { fetch?: typeof fetch; trustedCerts?: pkijs.Certificate[]; timeoutMs?: number } = {},
): Promise<{ response: Uint8Array; info: TimestampInfo }> {
  const request = createTimestampRequest(digest);
  const doFetch = options.fetch ?? fetch;
  const answer = await doFetch(tsaUrl, {
    method: "POST",
    headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
    body: request.der,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  if (!answer.ok) throw new TimestampError(`time-stamping authority answered HTTP ${answer.status}`);
  const response = new Uint8Array(await answer.arrayBuffer());
  const info = await verifyTimestamp(response, { digest, nonce: request.nonce });
  if (options.trustedCerts) await verifyTimestampChain(response, options.trustedCerts);
  return { response, info };
}

interface ParsedToken {
  signedData: pkijs.SignedData;
  tstInfo: pkijs.TSTInfo;
  signerCert: pkijs.Certificate;
}

const STATUS_NAMES = [
  "granted",
  "grantedWithMods",
  "rejection",
  "waiting",
  "revocationWarning",
  "revocationNotification",
];

async function parseToken(response: Uint8Array): Promise<ParsedToken> {
  let resp: pkijs.TimeStampResp;
  try {
    resp = pkijs.TimeStampResp.fromBER(response);
  } catch {
    throw new TimestampError("not a DER-encoded RFC 3161 TimeStampResp");
  }
  const status = resp.status.status;
  if (status !== pkijs.PKIStatus.granted && status !== pkijs.PKIStatus.grantedWithMods) {
    const text = resp.status.statusStrings?.map((s) => s.valueBlock.value).join("; ");
    throw new TimestampError(
      `time stamp not granted: ${STATUS_NAMES[status] ?? status}${text ? ` (${text})` : ""}`,
    );
  }
  const token = resp.timeStampToken;
  if (!token || token.contentType !== OID.signedData)
    throw new TimestampError("the response holds no signed token");
  const signedData = new pkijs.SignedData({ schema: token.content });
  const eContent = signedData.encapContentInfo.eContent;
  if (signedData.encapContentInfo.eContentType !== OID.tstInfo || !eContent) {
    throw new TimestampError("the token does not hold a TSTInfo");
  }
  const tstInfo = pkijs.TSTInfo.fromBER(eContent.getValue());
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo || signedData.signerInfos.length !== 1)
    throw new TimestampError("the token must have exactly one signer");
  const signerCert = await findSignerCertificate(signedData, signerInfo);
  return { signedData, tstInfo, signerCert };
}

async function findSignerCertificate(
  signedData: pkijs.SignedData,
  signerInfo: pkijs.SignerInfo,
): Promise<pkijs.Certificate> {
  const certs = (signedData.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  const sid = signerInfo.sid;
  for (const cert of certs) {
    if (sid instanceof pkijs.IssuerAndSerialNumber) {
      if (cert.issuer.isEqual(sid.issuer) && cert.serialNumber.isEqual(sid.serialNumber)) return cert;
    } else {
      const keyId = sid.idBlock.isConstructed
        ? sid.valueBlock.value[0].valueBlock.valueHex
        : sid.valueBlock.valueHex;
      const digest = await engine.digest(
        { name: "SHA-1" },
        cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView,
      );
      if (toHex(digest) === toHex(keyId)) return cert;
    }
  }
  throw new TimestampError("the token does not embed its signer's certificate (request it with certReq)");
}

function attribute(signerInfo: pkijs.SignerInfo, type: string): pkijs.Attribute | undefined {
  return signerInfo.signedAttrs?.attributes.find((a) => a.type === type);
}

function hashName(oid: string): string {
  const algorithm = engine.getAlgorithmByOID(oid);
  if (!("name" in algorithm)) throw new TimestampError(`unsupported digest algorithm ${oid}`);
  return algorithm.name;
}

/** RFC 2634/5035: the signed attributes must name the signer's certificate by its hash. */
async function checkSigningCertificate(signerInfo: pkijs.SignerInfo, cert: pkijs.Certificate): Promise<void> {
  const v2 = attribute(signerInfo, OID.signingCertificateV2);
  const v1 = attribute(signerInfo, OID.signingCertificate);
  const attr = v2 ?? v1;
  if (!attr) throw new TimestampError("the token lacks the signing-certificate attribute");
  const certIds = (attr.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  const first = certIds.valueBlock.value[0] as asn1js.Sequence;
  const fields = first.valueBlock.value;
  let algorithm: string = v2 ? OID.sha256 : OID.sha1;
  let hashField = fields[0];
  if (v2 && fields[0] instanceof asn1js.Sequence) {
    algorithm = new pkijs.AlgorithmIdentifier({ schema: fields[0] }).algorithmId;
    hashField = fields[1];
  }
  if (!(hashField instanceof asn1js.OctetString))
    throw new TimestampError("malformed signing-certificate attribute");
  const certHash = await engine.digest({ name: hashName(algorithm) }, cert.toSchema().toBER());
  if (toHex(certHash) !== toHex(hashField.valueBlock.valueHexView)) {
    throw new TimestampError("the signing-certificate attribute names another certificate");
  }
}

/** RFC 3161 §2.3: the TSA certificate's only extended key usage is timeStamping, marked critical. */
function checkTimestampingUsage(cert: pkijs.Certificate): void {
  const eku = cert.extensions?.find((e) => e.extnID === OID.extKeyUsage);
  const purposes = (eku?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (!eku || !eku.critical || purposes.length !== 1 || purposes[0] !== OID.timeStamping) {
    throw new TimestampError(
      "the signer's certificate is not a time-stamping certificate (critical extendedKeyUsage timeStamping)",
    );
  }
}

async function checkSignature(signedData: pkijs.SignedData, cert: pkijs.Certificate): Promise<void> {
  const signerInfo = signedData.signerInfos[0]!;
  const contentType = attribute(signerInfo, OID.contentTypeAttr);
  const messageDigest = attribute(signerInfo, OID.messageDigestAttr);
  if (!signerInfo.signedAttrs || !contentType || !messageDigest) {
    throw new TimestampError("the token's signer info lacks its content-type or message-digest attribute");
  }
  if ((contentType.values[0] as asn1js.ObjectIdentifier).valueBlock.toString() !== OID.tstInfo) {
    throw new TimestampError("the signed content type is not TSTInfo");
  }
  const shaName = hashName(signerInfo.digestAlgorithm.algorithmId);
  const content = signedData.encapContentInfo.eContent!.getValue();
  const contentDigest = await engine.digest({ name: shaName }, content);
  if (
    toHex(contentDigest) !== toHex((messageDigest.values[0] as asn1js.OctetString).valueBlock.valueHexView)
  ) {
    throw new TimestampError("the signed message digest does not match the token's content");
  }
  const valid = await engine.verifyWithPublicKey(
    signerInfo.signedAttrs.encodedValue,
    signerInfo.signature,
    cert.subjectPublicKeyInfo,
    signerInfo.signatureAlgorithm,
    shaName,
  );
  if (!valid) throw new TimestampError("the token's signature does not verify with its certificate");
  await checkSigningCertificate(signerInfo, cert);
  checkTimestampingUsage(cert);
}

function subjectOf(cert: pkijs.Certificate): string {
  return new X509Certificate(Buffer.from(cert.toSchema().toBER())).subject.replaceAll("\n", ", ");
}

/**
 * Verifies an RFC 3161 TimeStampResp on its own: granted, a SHA-256 imprint equal to `digest`, the
 * request's nonce when given, and a signature by the embedded time-stamping certificate. Whether that
 * certificate is trusted is {@link verifyTimestampChain}'s question.
 * @throws TimestampError saying what does not hold.
 */
export async function verifyTimestamp(
  response: Uint8Array,
  expected: { digest: string; nonce?: string },
): Promise<TimestampInfo> {
  const { signedData, tstInfo, signerCert } = await parseToken(response);
  const imprint = tstInfo.messageImprint;
  if (imprint.hashAlgorithm.algorithmId !== OID.sha256) {
    throw new TimestampError(`the token's imprint is not SHA-256 (${imprint.hashAlgorithm.algorithmId})`);
  }
  const stamped = `0x${toHex(imprint.hashedMessage.valueBlock.valueHexView)}`;
  if (stamped !== `0x${toHex(digestBytes(expected.digest))}`) {
    throw new TimestampError(`the token time-stamps ${stamped}, not ${expected.digest}`);
  }
  const nonce = tstInfo.nonce ? toHex(tstInfo.nonce.valueBlock.valueHexView) : undefined;
  if (expected.nonce !== undefined && nonce !== expected.nonce.toLowerCase()) {
    throw new TimestampError("the token's nonce differs from the request's (a replayed answer?)");
  }
  await checkSignature(signedData, signerCert);
  return {
    genTime: tstInfo.genTime,
    serialNumber: toHex(tstInfo.serialNumber.valueBlock.valueHexView),
    policy: tstInfo.policy,
    nonce,
    signer: subjectOf(signerCert),
    digest: stamped,
  };
}

/**
 * Verifies that the token's signing certificate chains (through the certificates embedded in the
 * token) to one of `trustedCerts`, as valid at the token's generation time.
 * @returns the subjects of the chain, signer first.
 * @throws TimestampError when it does not.
 */
export async function verifyTimestampChain(
  response: Uint8Array,
  trustedCerts: pkijs.Certificate[],
): Promise<string[]> {
  if (trustedCerts.length === 0) throw new TimestampError("no trusted certificates given");
  const { signedData, tstInfo, signerCert } = await parseToken(response);
  const embedded = (signedData.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  const chain = new pkijs.CertificateChainValidationEngine({
    trustedCerts,
    certs: [...embedded.filter((c) => c !== signerCert), signerCert],
    checkDate: tstInfo.genTime,
  });
  const result = await chain.verify({}, engine);
  if (!result.result)
    throw new TimestampError(`the time-stamping certificate is not trusted: ${result.resultMessage}`);
  return (result.certificatePath ?? []).map(subjectOf);
}

/** Parses certificates from PEM text (one or many) or a single DER certificate. */
export function parseCertificates(input: Uint8Array | string): pkijs.Certificate[] {
  const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
  if (blocks.length > 0) {
    return blocks.map((m) => pkijs.Certificate.fromBER(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")));
  }
  if (typeof input === "string") throw new TimestampError("no PEM certificate found");
  return [pkijs.Certificate.fromBER(input)];
}
