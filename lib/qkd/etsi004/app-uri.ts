// How qtls names applications in 004 OPEN_CONNECT source/destination URIs (§6.2 leaves the scheme to the
// implementation): `sae:<SAE ID>` (RFC 3986 opaque URI). A bare SAE ID is accepted as well.

export function saeUri(saeId: string): string {
  return `sae:${saeId}`;
}

/** The SAE ID a URI names, or undefined if it names none. */
export function saeFromUri(uri: string): string | undefined {
  const id = uri.startsWith('sae:') ? uri.slice(4) : uri;
  if (id.length === 0 || id.length > 256 || /[\s\0]/.test(id) || /^[a-z][a-z0-9+.-]*:/i.test(id)) return undefined;
  return id;
}
