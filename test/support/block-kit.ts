/**
 * Slack publishes no schema for Block Kit, so this checks what its reference pages document, for
 * the blocks and elements the bot uses. Each limit names the page it comes from (docs.slack.dev,
 * "Block Kit" reference). Lengths are counted in UTF-16 code units, which is at least as strict as
 * counting characters. A block or element type not listed here is reported, so that a new kind
 * the bot starts to send gets its limits added rather than passing unchecked.
 *
 * Not checked: Slack also refuses a message whose blocks are long in total (`msg_blocks_too_long`),
 * but documents no figure for it.
 */

type Json = Record<string, unknown>;

const LIMITS = {
  /** "Truncating really long messages" (changelog) and chat.postMessage: `text` past 40,000 is cut. */
  messageText: 40_000,
  /** "Blocks" reference: up to 50 blocks in each message, and 100 in modals or Home tabs. */
  messageBlocks: 50,
  viewBlocks: 100,
  /** "Modal views": title, submit and close are plain_text of at most 24 characters. */
  modalButtonText: 24,
  /** "Modal views" / "Home tab views": private_metadata at most 3,000; callback_id at most 255. */
  privateMetadata: 3000,
  callbackId: 255,
  /** Every block's block_id ("Section block", "Header block", …): at most 255. */
  blockId: 255,
  /** "Text object": text is 1 to 3,000 characters. */
  text: 3000,
  /** "Section block": text at most 3,000; fields at most 10, each at most 2,000. */
  sectionFields: 10,
  sectionField: 2000,
  /** "Header block": plain_text of at most 150. */
  header: 150,
  /** "Context block": at most 10 elements. */
  contextElements: 10,
  /** "Actions block": at most 25 elements. */
  actionsElements: 25,
  /** "Input block": label and hint plain_text of at most 2,000. */
  inputLabel: 2000,
  /** "Button element": text at most 75, action_id 255, value 2,000, url 3,000. */
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  url: 3000,
  /** "Select menu element" (static): at most 100 options; placeholder at most 150. */
  selectOptions: 100,
  placeholder: 150,
  /** "Option object": text at most 75, value at most 150. */
  optionText: 75,
  optionValue: 150,
  /** "Plain-text input element": min_length and max_length within 0–3,000. */
  inputLength: 3000,
} as const;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Problems {
  readonly list: string[] = [];
  add(at: string, problem: string): void {
    this.list.push(`${at || '(root)'} ${problem}`);
  }
  /** A string no longer than `max` (and, when `required`, present). */
  length(at: string, value: unknown, max: number, required = false): void {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') this.add(at, 'must be a string');
    else if (value.length > max) this.add(at, `is ${value.length} characters long; the limit is ${max}`);
  }
  /** A text object: `plain_text` (or also `mrkdwn` unless `plainOnly`), 1 to `max` characters. */
  text(
    at: string,
    value: unknown,
    max: number,
    options: { plainOnly?: boolean; required?: boolean } = {},
  ): void {
    if (value === undefined && !options.required) return;
    if (!isObject(value)) {
      this.add(at, 'must be a text object');
      return;
    }
    const allowed = options.plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!allowed.includes(String(value.type))) this.add(`${at}/type`, `must be ${allowed.join(' or ')}`);
    if (typeof value.text !== 'string' || value.text.length === 0)
      this.add(`${at}/text`, 'must not be empty');
    this.length(`${at}/text`, value.text, Math.min(max, LIMITS.text), true);
  }
  count(at: string, value: unknown, max: number, min = 0): unknown[] {
    if (!Array.isArray(value)) {
      if (min > 0 || value !== undefined) this.add(at, 'must be an array');
      return [];
    }
    if (value.length > max) this.add(at, `has ${value.length} items; the limit is ${max}`);
    if (value.length < min) this.add(at, `must have at least ${min} item${min === 1 ? '' : 's'}`);
    return value;
  }
}

type Surface = 'message' | 'modal' | 'home';

/**
 * Problems with a message as chat.postMessage, chat.update, chat.postEphemeral or a response_url
 * takes it (`text`, `blocks`); empty when Slack would take it.
 */
export function checkMessage(message: unknown): string[] {
  const p = new Problems();
  if (!isObject(message)) return ['(root) must be an object'];
  p.length('/text', message.text, LIMITS.messageText);
  blocks(p, message.blocks, LIMITS.messageBlocks, 'message');
  return p.list;
}

/** Problems with a view as views.open, views.update, views.push or views.publish takes it. */
export function checkView(view: unknown): string[] {
  const p = new Problems();
  if (!isObject(view)) return ['(root) must be an object'];
  if (view.type !== 'modal' && view.type !== 'home') p.add('/type', 'must be modal or home');
  const surface: Surface = view.type === 'home' ? 'home' : 'modal';
  if (surface === 'modal') {
    p.text('/title', view.title, LIMITS.modalButtonText, { plainOnly: true, required: true });
    p.text('/submit', view.submit, LIMITS.modalButtonText, { plainOnly: true });
    p.text('/close', view.close, LIMITS.modalButtonText, { plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      p.add('/submit', 'is required when the view has an input block');
  }
  p.length('/private_metadata', view.private_metadata, LIMITS.privateMetadata);
  p.length('/callback_id', view.callback_id, LIMITS.callbackId);
  blocks(p, view.blocks, LIMITS.viewBlocks, surface);
  return p.list;
}

function blocks(p: Problems, value: unknown, max: number, surface: Surface): void {
  const ids = new Set<string>();
  p.count('/blocks', value, max, surface === 'message' ? 0 : 1).forEach((b, i) => {
    const at = `/blocks/${i}`;
    if (!isObject(b)) {
      p.add(at, 'must be an object');
      return;
    }
    if (b.block_id !== undefined) {
      p.length(`${at}/block_id`, b.block_id, LIMITS.blockId);
      // "block_id should be unique for each message or view": Slack refuses a repeated one.
      if (ids.has(String(b.block_id))) p.add(`${at}/block_id`, `"${String(b.block_id)}" is used twice`);
      ids.add(String(b.block_id));
    }
    block(p, at, b, surface);
  });
}

function block(p: Problems, at: string, b: Json, surface: Surface): void {
  switch (b.type) {
    case 'section': {
      if (b.text === undefined && b.fields === undefined) p.add(at, 'needs text or fields');
      p.text(`${at}/text`, b.text, LIMITS.text);
      p.count(`${at}/fields`, b.fields, LIMITS.sectionFields).forEach((f, i) => {
        p.text(`${at}/fields/${i}`, f, LIMITS.sectionField, { required: true });
      });
      if (b.accessory !== undefined) element(p, `${at}/accessory`, b.accessory);
      return;
    }
    case 'header':
      p.text(`${at}/text`, b.text, LIMITS.header, { plainOnly: true, required: true });
      return;
    case 'context':
      p.count(`${at}/elements`, b.elements, LIMITS.contextElements, 1).forEach((e, i) => {
        if (isObject(e) && e.type === 'image') return;
        p.text(`${at}/elements/${i}`, e, LIMITS.text, { required: true });
      });
      return;
    case 'actions': {
      const ids = new Set<string>();
      p.count(`${at}/elements`, b.elements, LIMITS.actionsElements, 1).forEach((e, i) => {
        element(p, `${at}/elements/${i}`, e);
        const id = isObject(e) ? e.action_id : undefined;
        // "action_id … should be unique among all other action_ids in the containing block".
        if (typeof id === 'string' && ids.has(id))
          p.add(`${at}/elements/${i}/action_id`, `"${id}" is used twice`);
        if (typeof id === 'string') ids.add(id);
      });
      return;
    }
    case 'divider':
      return;
    case 'input':
      if (surface === 'message') p.add(at, 'input blocks belong in modals and Home tabs');
      p.text(`${at}/label`, b.label, LIMITS.inputLabel, { plainOnly: true, required: true });
      p.text(`${at}/hint`, b.hint, LIMITS.inputLabel, { plainOnly: true });
      element(p, `${at}/element`, b.element);
      return;
    default:
      p.add(`${at}/type`, `"${String(b.type)}" is not a block type this checker knows`);
  }
}

function element(p: Problems, at: string, e: unknown): void {
  if (!isObject(e)) {
    p.add(at, 'must be an element object');
    return;
  }
  p.length(`${at}/action_id`, e.action_id, LIMITS.actionId);
  switch (e.type) {
    case 'button':
      p.text(`${at}/text`, e.text, LIMITS.buttonText, { plainOnly: true, required: true });
      p.length(`${at}/value`, e.value, LIMITS.buttonValue);
      p.length(`${at}/url`, e.url, LIMITS.url);
      if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') {
        p.add(`${at}/style`, 'must be primary or danger');
      }
      return;
    case 'static_select':
      p.text(`${at}/placeholder`, e.placeholder, LIMITS.placeholder, { plainOnly: true });
      p.count(`${at}/options`, e.options, LIMITS.selectOptions, 1).forEach((o, i) => {
        const option = isObject(o) ? o : {};
        p.text(`${at}/options/${i}/text`, option.text, LIMITS.optionText, {
          plainOnly: true,
          required: true,
        });
        p.length(`${at}/options/${i}/value`, option.value, LIMITS.optionValue, true);
      });
      return;
    case 'plain_text_input':
      p.text(`${at}/placeholder`, e.placeholder, LIMITS.placeholder, { plainOnly: true });
      for (const key of ['min_length', 'max_length'] as const) {
        const n = e[key];
        if (n !== undefined && (typeof n !== 'number' || n < 0 || n > LIMITS.inputLength)) {
          p.add(`${at}/${key}`, `must be a number from 0 to ${LIMITS.inputLength}`);
        }
      }
      return;
    case 'datepicker':
      p.text(`${at}/placeholder`, e.placeholder, LIMITS.placeholder, { plainOnly: true });
      if (e.initial_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(e.initial_date))) {
        p.add(`${at}/initial_date`, 'must be YYYY-MM-DD');
      }
      return;
    default:
      p.add(`${at}/type`, `"${String(e.type)}" is not an element type this checker knows`);
  }
}
