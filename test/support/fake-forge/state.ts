/*
 * What the fake forge stores: issues (pull requests among them, as GitHub lists them), labels and
 * comments, with a server clock. Routes read and change it for clients; `person` changes it the
 * way someone in the web UI would, without a request.
 */

export type Flavor = "github" | "gitea" | "gitlab";

export interface FakeComment {
  id: number;
  body: string;
  created_at: string;
  /** Who wrote it: the token's account (BOT) through the API, a person in the web UI. */
  author: string;
}

/** The account the fake's token belongs to, and the one a person uses in the web UI. */
export const BOT = "lastbeat-bot";
export const PERSON = "a-person";

export interface FakeIssue {
  id: number;
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  state_reason: string | null;
  labels: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull: boolean;
  comments: FakeComment[];
  /** Who opened it (see FakeComment's author). */
  author: string;
}

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
  description: string;
}

export interface IssueFields {
  title: string;
  body?: string;
  labels?: string[];
  pull?: boolean;
}

const BASE_TIME = Date.parse("2025-01-01T00:00:00Z");

export class ForgeState {
  readonly issues: FakeIssue[] = [];
  readonly labels: FakeLabel[] = [];
  /** The server's clock for created/updated times; by default a fixed instant ticking 1 s per call. */
  readonly now: () => Date;
  private lastId = 999;

  constructor(readonly flavor: Flavor, now?: () => Date) {
    let tick = 0;
    this.now = now ?? (() => new Date(BASE_TIME + 1000 * tick++));
  }

  nextId(): number {
    return ++this.lastId;
  }

  findLabel(name: string): FakeLabel | undefined {
    return this.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
  }

  findIssue(number: number): FakeIssue | undefined {
    return this.issues.find((i) => i.number === number);
  }

  addLabel(fields: { name: string; color?: string; description?: string }): FakeLabel {
    const label: FakeLabel = { id: this.nextId(), name: fields.name, color: fields.color ?? "ededed", description: fields.description ?? "" };
    this.labels.push(label);
    return label;
  }

  addIssue(fields: IssueFields, author = BOT): FakeIssue {
    const at = this.now().toISOString();
    for (const name of fields.labels ?? []) {
      if (!this.findLabel(name)) {
        if (this.flavor === "gitea") throw new Error(`fake gitea: label ${name} does not exist`);
        this.addLabel({ name });
      }
    }
    const issue: FakeIssue = {
      id: this.nextId(),
      number: this.issues.length + 1,
      title: fields.title,
      body: fields.body ?? "",
      state: "open",
      state_reason: null,
      labels: (fields.labels ?? []).map((n) => this.findLabel(n)!.name),
      created_at: at,
      updated_at: at,
      closed_at: null,
      pull: fields.pull ?? false,
      comments: [],
      author,
    };
    this.issues.push(issue);
    return issue;
  }

  addComment(issue: FakeIssue, body: string, author = BOT): FakeComment {
    const comment: FakeComment = { id: this.nextId(), body, created_at: this.now().toISOString(), author };
    issue.comments.push(comment);
    return comment;
  }

  openIssues(label?: string): FakeIssue[] {
    return this.issues.filter((i) => i.state === "open" && !i.pull && (!label || i.labels.some((l) => l.toLowerCase() === label.toLowerCase())));
  }

  /** What a person does in the web UI. */
  readonly person = {
    close: (number: number): void => {
      const issue = this.findIssue(number)!;
      issue.state = "closed";
      issue.closed_at = this.now().toISOString();
      issue.state_reason = "completed";
    },
    editBody: (number: number, body: string): void => {
      const issue = this.findIssue(number)!;
      issue.body = body;
      issue.updated_at = this.now().toISOString();
    },
    comment: (number: number, body: string, author = PERSON): FakeComment => this.addComment(this.findIssue(number)!, body, author),
    deleteLabel: (name: string): void => {
      const label = this.findLabel(name);
      if (!label) return;
      this.labels.splice(this.labels.indexOf(label), 1);
      for (const issue of this.issues) issue.labels = issue.labels.filter((l) => l.toLowerCase() !== name.toLowerCase());
    },
    /** Opened as `author`: a person, unless told the checker's own account (`BOT`) opened it before. */
    open: (fields: IssueFields, author = PERSON): FakeIssue => {
      for (const name of fields.labels ?? []) {
        if (!this.findLabel(name)) this.addLabel({ name });
      }
      return this.addIssue(fields, author);
    },
  };
}
