/** One Server-Sent Event: its `event` name ("message" when unnamed) and joined `data` lines. */
export interface ServerSentEvent {
  readonly event: string;
  /** The data lines joined with "\n"; undefined for a block without data (a keep-alive comment). */
  readonly data: string | undefined;
}

/**
 * Splits a `text/event-stream` body into events (WHATWG HTML, "Server-sent events"): blocks end
 * at a blank line, `:` lines are comments, `event:` names the event, `data:` lines join with
 * "\n". Comment-only blocks come out too (data undefined), so a reader can count keep-alives.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.search(/\r?\n\r?\n/);
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === '\r' ? end + 4 : end + 2);
        yield parseBlock(block);
        end = buffer.search(/\r?\n\r?\n/);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): ServerSentEvent {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.length === 0 ? undefined : data.join('\n') };
}
