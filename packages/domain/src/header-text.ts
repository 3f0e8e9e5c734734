/**
 * The characters that may never reach a header from data, as the body of a RegExp character
 * class: C0 controls (CR, LF, NUL, TAB…), DEL, C1 controls (NEL U+0085 ends a line for some
 * parsers) and the Unicode line and paragraph separators. Each can end a header line early,
 * i.e. add a header or a recipient. One definition for the template and mail layers, so a
 * character added here is refused by both.
 */
export const HEADER_BREAKING_CHARS = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';
