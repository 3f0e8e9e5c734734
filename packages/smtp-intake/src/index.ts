/**
 * What every relais SMTP listener does to a message before it believes it: line endings
 * checked strictly (the defence against SMTP smuggling), Received headers counted, and
 * refusals that smtp-server sends with their own reply code and enhanced status.
 */
export { bareLineEnding, countReceived } from './strict-crlf';
export { isSmtpRefusal, smtpRefusal, type SmtpRefusal } from './refusal';
