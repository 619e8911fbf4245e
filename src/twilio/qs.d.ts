// `qs` ships without types; it is the twilio SDK's own dependency and we only need its encoder.
declare module 'qs' {
  export function stringify(obj: unknown, opts?: { arrayFormat?: 'indices' | 'brackets' | 'repeat' | 'comma' }): string;
}
