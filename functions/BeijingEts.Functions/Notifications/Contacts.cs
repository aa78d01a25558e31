using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using MimeKit;

namespace BeijingEts.Functions.Notifications;

public sealed record Contact(string Name, string Email)
{
    /// <summary>An address as the audit and the notices show it (personal data): its first character and its domain, z***@example.com.</summary>
    public static string Mask(string email) => email.LastIndexOf('@') is > 0 and var at ? $"{email[0]}***{email[at..]}" : "***";
}

/// <summary>
/// Who receives a party's notices by email: kept by the party itself, or by the regulator for it. <see cref="LastChange"/>
/// is kept, not shown: the addresses the last change replaced, so its notice can be written again (once) should the
/// change's request have stopped before it.
/// </summary>
public sealed record PartyContacts(string Party, IReadOnlyList<Contact> Contacts, DateTimeOffset UpdatedAt, string UpdatedBy,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] ContactsChange? LastChange = null);

/// <summary>A change of a party's addresses: those it replaced, when, and who made it (as the notice names them).</summary>
public sealed record ContactsChange(IReadOnlyList<Contact> Replaced, DateTimeOffset At, string By);

/// <summary>The contacts table: partition = the party's role, row = its id (the role again for a party of one).</summary>
public sealed class ContactStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Contacts);

    public Task<PartyContacts?> FindAsync(Party party, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<PartyContacts>(party.Role, party.Id ?? party.Role, cancellationToken);

    public Task PutAsync(Party party, PartyContacts contacts, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(party.Role, party.Id ?? party.Role, contacts, cancellationToken);
}

/// <summary>
/// GET and PUT /api/parties/{party}/contacts: a party's email contacts for notices. A party keeps its own ("unit:{uscc}",
/// "verifier:{uscc}", "district:{name}", "participant:{uscc}", or its role for the bureau, the exchange, the registry and
/// the finance authorities); the regulator keeps anyone's. GET /api/parties/me/contacts: the caller's own.
/// </summary>
public sealed class ContactEndpoints : IHttpFunction
{
    public const int MaxContacts = 10;

    /// <summary>How long after a change a repeated request still writes the change's notice, should it be missing.</summary>
    private static readonly TimeSpan RetoldWithin = TimeSpan.FromDays(1);

    public sealed record Request(IReadOnlyList<ContactInput>? Contacts);

    public sealed record ContactInput(string? Name, string? Email);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/parties/{party}/contacts", GetAsync).WithTags("Notices");
        api.MapPut("/parties/{party}/contacts", PutAsync).WithTags("Notices");
    }

    private static async Task<Results<Ok<PartyContacts>, ProblemHttpResult>> GetAsync(string party, HttpContext http, ContactStore contacts, CancellationToken cancellationToken)
    {
        var (target, problem) = Resolve(party, http);
        if (target is null) return problem!;
        return TypedResults.Ok((await contacts.FindAsync(target, cancellationToken) ?? new PartyContacts(target.Key, [], DateTimeOffset.MinValue, "")) with { LastChange = null });
    }

    private static async Task<Results<Ok<PartyContacts>, ProblemHttpResult>> PutAsync(
        string party, Request request, HttpContext http, ContactStore contacts, AuditLog audit, NoticeOutbox notices, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (target, problem) = Resolve(party, http);
        if (target is null) return problem!;
        if (request.Contacts is not { } input) return ProblemHandling.BadRequest("contacts is required: a list of {name, email}, empty to register none.");
        if (input.Count > MaxContacts) return ProblemHandling.BadRequest($"At most {MaxContacts} contacts: a party's notices go to each of them.");
        var parsed = new List<Contact>();
        for (var i = 0; i < input.Count; i++)
        {
            var (name, email) = (input[i]?.Name?.Trim(), input[i]?.Email?.Trim());
            if (string.IsNullOrEmpty(name) || name.Length > 100) return ProblemHandling.BadRequest($"contacts[{i}].name is required, up to 100 characters.");
            if (!IsMailbox(email)) return ProblemHandling.BadRequest($"contacts[{i}].email '{email}' is not an email address (name@domain).");
            parsed.Add(new Contact(name, email!));
        }
        if (parsed.DistinctBy(c => c.Email, StringComparer.OrdinalIgnoreCase).Count() != parsed.Count) return ProblemHandling.BadRequest("Each email address may be listed once.");

        var actor = Actor.From(http.User);
        var before = await contacts.FindAsync(target, cancellationToken);
        var previous = before?.Contacts ?? [];
        var now = clock.GetUtcNow();
        // The addresses before a change are told too: a change nobody at the party made cannot redirect its notices unseen.
        // (A party's first addresses replace none: there is nobody else to tell.) Names alone changing is no change here.
        var changes = previous.Count > 0 && !previous.Select(c => c.Email).ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(parsed.Select(c => c.Email));
        var lastChange = changes ? new ContactsChange(previous, now, NoticeTemplates.Who(actor)) : before?.LastChange;
        var after = new PartyContacts(target.Key, parsed, now, actor.Id, lastChange);
        await contacts.PutAsync(target, after, cancellationToken);
        // Addresses are personal data: the audit row keeps them masked, enough to see that they changed and to where.
        await audit.RecordAsync(actor, "contacts.updated", $"parties/{target.Key}/contacts", before is null ? null : Masked(previous), Masked(parsed), cancellationToken);
        if (lastChange is not null && (changes || now - lastChange.At < RetoldWithin))
        {
            // The last change's notice, under the id its instant fixes: written now, or again by a request repeated soon
            // after one that stopped before telling (then it is the same notice, and nothing is sent twice).
            await notices.PublishAsync(NoticeTemplates.ContactsChanged(target, lastChange.Replaced, parsed, lastChange.At, lastChange.By), cancellationToken);
        }
        after = after with { LastChange = null };
        return TypedResults.Ok(after);
    }

    /// <summary>"me" is the caller; any other party only its own or the regulator's to see (another's: 404, as if it did not exist).</summary>
    private static (Party? Party, ProblemHttpResult? Problem) Resolve(string key, HttpContext http)
    {
        var caller = Party.Of(http.User);
        if (caller is null) return (null, Problems.Forbidden("The token names no party to act for."));
        if (key == "me") return (caller, null);
        if (Party.Parse(key) is not { } target) return (null, ProblemHandling.BadRequest($"'{key}' is not a party: write role:id (unit:<USCC>, district:<name>) or the role alone (regulator, exchange, registry, finance), or 'me'."));
        if (caller.Role != Roles.Regulator && caller != target) return (null, ProblemHandling.NotFound($"No contacts of {key} for you."));
        return (target, null);
    }

    private static object Masked(IReadOnlyList<Contact> list) => new { count = list.Count, emails = list.Select(c => Contact.Mask(c.Email)).ToList() };

    private static bool IsMailbox(string? email) =>
        email is { Length: > 3 and <= 254 } && MailboxAddress.TryParse(email, out var mailbox) && mailbox.Address == email && email.IndexOf('@') is > 0 and var at && at < email.Length - 1;
}
