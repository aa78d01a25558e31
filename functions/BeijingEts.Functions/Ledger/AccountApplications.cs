using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Ledger;

/// <summary>The 18-digit resident identity number (GB 11643-1999): its check character is ISO 7064 MOD 11-2 over the first 17 digits.</summary>
public static class ResidentIds
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string Checks = "10X98765432";

    public static bool IsValid(string? text, out string error)
    {
        var id = text?.Trim().ToUpperInvariant() ?? "";
        if (id.Length != 18 || !id[..17].All(char.IsAsciiDigit) || !(char.IsAsciiDigit(id[17]) || id[17] == 'X'))
        {
            error = "idNumber must be the 18-character resident identity number: 17 digits and a check digit or X.";
            return false;
        }
        if (!DateOnly.TryParseExact(id.Substring(6, 8), "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
        {
            error = "idNumber's characters 7 to 14 are not a date of birth; check the number for a typing error.";
            return false;
        }
        var sum = 0;
        for (var i = 0; i < 17; i++) sum += (id[i] - '0') * Weights[i];
        if (Checks[sum % 11] != id[17])
        {
            error = $"idNumber has the wrong check character '{id[17]}' (GB 11643 gives '{Checks[sum % 11]}'); check the number for a typing error.";
            return false;
        }
        error = "";
        return true;
    }
}

/// <summary>
/// Encrypts personal data at rest (AES-256-GCM, a fresh nonce each time) under Ets:Registry:DataKey (32 bytes, base64);
/// in local Development without one, a key derived from the local signing key. Shown to anyone but the registry only masked.
/// </summary>
public sealed class PersonalData
{
    private readonly byte[] _key = [];

    public PersonalData(IConfiguration configuration, IHostEnvironment environment)
    {
        if (configuration["Ets:Registry:DataKey"] is { Length: > 0 } configured)
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(configured);
            }
            catch (FormatException)
            {
                key = [];
            }
            if (key.Length == 32) _key = key;
            else Unavailable = "Ets:Registry:DataKey must be 32 bytes, base64-encoded (infra/README.md); account applications are refused until it is.";
            return;
        }
        var signing = configuration["Auth:SigningKey"] ?? (configuration["Auth:SigningKeyFile"] is { } file && File.Exists(file) ? File.ReadAllText(file).Trim() : null);
        if (!environment.IsDevelopment() || signing is null)
        {
            Unavailable = "Ets:Registry:DataKey is not set (the vault's registry-data-key, infra/README.md); account applications are refused until it is, so personal data is never stored unencrypted.";
            return;
        }
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(signing), 32, info: "beijing-ets personal data v1"u8.ToArray());
    }

    /// <summary>Why personal data cannot be kept now (no usable key); null when it can.</summary>
    public string? Unavailable { get; }

    /// <summary>A 503 that names the missing key, or null when the key is usable.</summary>
    public ProblemHttpResult? Refusal => Unavailable is null ? null : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Personal data cannot be kept now", detail: Unavailable);

    public string Protect(string plain)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var data = Encoding.UTF8.GetBytes(plain);
        var cipher = new byte[data.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(_key, 16)) aes.Encrypt(nonce, data, cipher, tag);
        return "v1." + Convert.ToBase64String([.. nonce, .. tag, .. cipher]);
    }

    public string Unprotect(string sealedText)
    {
        var bytes = Convert.FromBase64String(sealedText["v1.".Length..]);
        var plain = new byte[bytes.Length - 28];
        using (var aes = new AesGcm(_key, 16)) aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(28), bytes.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>The first and last characters kept, the middle starred: 110105********123X, 138****5678.</summary>
    public static string Mask(string value, int head, int tail) =>
        value.Length <= head + tail ? new string('*', value.Length) : value[..head] + new string('*', value.Length - head - tail) + value[^tail..];
}

/// <summary>What an applicant gives; the personal fields (identity number, phone, email, bank account) are kept encrypted.</summary>
public sealed record ApplicantDetails(string Name, string ContactName, string Phone, string Email, string BankName, string BankAccount, string? Uscc = null, string? IdNumber = null);

/// <summary>
/// An application for a registry and trading account (Art. 13, 17) by an organisation (its USCC is its account) or a
/// natural person (a platform account code is minted on approval). <see cref="Sealed"/> holds the personal fields encrypted.
/// </summary>
public sealed record AccountApplication(string Id, string Kind, string Name, string? Uscc, string Sealed, IReadOnlyList<string> Declarations, string Status, DateTimeOffset FiledAt,
    string FiledBy, string? AccountId = null, string? DecidedBy = null, DateTimeOffset? DecidedAt = null, string? Reasons = null)
{
    public const string Organisation = "organisation";
    public const string Person = "person";
    public const string Submitted = "submitted";
    public const string Approved = "approved";
    public const string Refused = "refused";
}

/// <summary>An application as shown: the registry sees the personal fields, everyone else masked.</summary>
public sealed record AccountApplicationView(string Id, string Kind, string Name, string? Uscc, string? IdNumber, string ContactName, string Phone, string Email, string BankName,
    string BankAccount, IReadOnlyList<string> Declarations, string Status, DateTimeOffset FiledAt, string? AccountId, string? DecidedBy, DateTimeOffset? DecidedAt, string? Reasons,
    bool Masked);

public sealed class AccountApplicationStore(StorageClients storage)
{
    private KeyedDocuments<AccountApplication> Rows => new(storage.Table(StorageNames.Tables.AccountApplications), "application", a => a.Id,
        a => [("Status", a.Status), ("Uscc", a.Uscc ?? "")]);

    public Task<(AccountApplication Application, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken) => Rows.FindAsync(id, cancellationToken);

    public Task AddAsync(AccountApplication application, CancellationToken cancellationToken) => Rows.AddAsync(application, cancellationToken);

    public Task<bool> TryReplaceAsync(AccountApplication application, ETag etag, CancellationToken cancellationToken) => Rows.TryReplaceAsync(application, etag, cancellationToken);

    public async Task<IReadOnlyList<AccountApplication>> ListAsync(string? status, string? uscc, CancellationToken cancellationToken) =>
        (await Rows.QueryAsync([("Status", status), ("Uscc", uscc)], cancellationToken)).OrderBy(a => a.FiledAt).ToList();
}

/// <summary>
/// Accounts for voluntary participants (Art. 13, 17): POST /api/account-applications (an organisation with its own
/// participant token, or the registry at its desk for anyone, natural persons included), GET /api/account-applications
/// ?status= (the registry; the regulator masked), GET /api/account-applications/{id} (also the applying organisation,
/// masked), POST /api/account-applications/{id}/decision (the registry: approved opens the account, refused with reasons).
/// </summary>
public sealed class AccountApplicationEndpoints : IHttpFunction
{
    public static readonly string[] RequiredDeclarations = ["risk-understood", "information-true", "rules-accepted"];

    public sealed record ApplyRequest(string Kind, ApplicantDetails Applicant, IReadOnlyList<string> Declarations);

    public sealed record DecisionRequest(string Decision, string Reasons);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/account-applications", ApplyAsync).WithTags("Ledger");
        api.MapGet("/account-applications", async (string? status, HttpContext http, AccountApplicationStore store, PersonalData data, CancellationToken ct) =>
            data.Refusal is { } unavailable ? unavailable : status is null or AccountApplication.Submitted or AccountApplication.Approved or AccountApplication.Refused
                ? (Results<Ok<IReadOnlyList<AccountApplicationView>>, ProblemHttpResult>)TypedResults.Ok<IReadOnlyList<AccountApplicationView>>(
                    (await store.ListAsync(status, null, ct)).Select(a => View(a, http.User, data)).ToList())
                : ProblemHandling.BadRequest("status must be submitted, approved or refused.")).WithTags("Ledger");
        api.MapGet("/account-applications/{id}", async (string id, HttpContext http, AccountApplicationStore store, PersonalData data, CancellationToken ct) =>
            data.Refusal is { } unavailable ? unavailable : await store.FindAsync(id, ct) is { } found && MaySee(http.User, found.Application)
                ? (Results<Ok<AccountApplicationView>, ProblemHttpResult>)TypedResults.Ok(View(found.Application, http.User, data))
                : ProblemHandling.NotFound($"No account application {id} that you may see.")).WithTags("Ledger");
        api.MapPost("/account-applications/{id}/decision", DecideAsync).WithTags("Ledger");
    }

    private static bool MaySee(ClaimsPrincipal user, AccountApplication application) =>
        user.IsInRole(Roles.Registry) || user.IsInRole(Roles.Regulator)
        || (user.IsInRole(Roles.Participant) && application.Uscc is not null && string.Equals(user.FindFirstValue(EtsClaims.ParticipantId), application.Uscc, StringComparison.OrdinalIgnoreCase));

    private static AccountApplicationView View(AccountApplication a, ClaimsPrincipal user, PersonalData data)
    {
        ApplicantDetails details;
        try
        {
            details = JsonSerializer.Deserialize<ApplicantDetails>(data.Unprotect(a.Sealed), DocumentRows.Json)!;
        }
        catch (CryptographicException)
        {
            // Sealed under another key (or damaged): shown as unreadable, not failing every other application with it.
            details = new ApplicantDetails(a.Name, "(unreadable)", "(unreadable)", "(unreadable)", "(unreadable)", "(unreadable)", a.Uscc);
        }
        var full = user.IsInRole(Roles.Registry);
        string Show(string? value, int head, int tail) => value is null ? "" : full ? value : PersonalData.Mask(value, head, tail);
        return new AccountApplicationView(a.Id, a.Kind, a.Kind == AccountApplication.Person && !full ? PersonalData.Mask(a.Name, 1, 0) : a.Name, a.Uscc,
            details.IdNumber is null ? null : Show(details.IdNumber, 6, 4), full ? details.ContactName : PersonalData.Mask(details.ContactName, 1, 0), Show(details.Phone, 3, 4),
            Show(details.Email, 1, details.Email.Length - Math.Max(0, details.Email.IndexOf('@'))), details.BankName, Show(details.BankAccount, 0, 4), a.Declarations, a.Status,
            a.FiledAt, a.AccountId, a.DecidedBy, a.DecidedAt, a.Reasons, !full);
    }

    private static async Task<Results<Created<AccountApplicationView>, ProblemHttpResult>> ApplyAsync(ApplyRequest request, HttpContext http, AccountApplicationStore store,
        ParticipantStore participants, UnitStore units, PersonalData data, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (data.Refusal is { } unavailable) return unavailable;
        var user = http.User;
        var a = request.Applicant;
        var problems = new List<string>();
        if (request.Kind is not (AccountApplication.Organisation or AccountApplication.Person)) problems.Add("kind must be 'organisation' or 'person'.");
        if (a is null) return ProblemHandling.BadRequest("applicant is required: name, uscc or idNumber, contactName, phone, email, bankName, bankAccount.");
        string? uscc = null;
        if (request.Kind == AccountApplication.Organisation)
        {
            if (!Uscc.TryParse(a.Uscc, out var code, out var error)) problems.Add("applicant.uscc: " + error);
            else uscc = code.Value;
            if (a.IdNumber is not null) problems.Add("An organisation applies with its uscc, without an idNumber.");
        }
        else if (request.Kind == AccountApplication.Person)
        {
            if (!ResidentIds.IsValid(a.IdNumber, out var error)) problems.Add(error);
            if (a.Uscc is not null) problems.Add("A natural person applies with an idNumber, without a uscc.");
        }
        if (string.IsNullOrWhiteSpace(a.Name) || a.Name.Length > 200) problems.Add("applicant.name must be 1 to 200 characters.");
        if (string.IsNullOrWhiteSpace(a.ContactName) || a.ContactName.Length > 100) problems.Add("applicant.contactName must be 1 to 100 characters.");
        if (a.Phone is null || !System.Text.RegularExpressions.Regex.IsMatch(a.Phone, @"^\+?[0-9][0-9 -]{6,19}$")) problems.Add("applicant.phone must be a telephone number, 7 to 20 digits.");
        if (a.Email is null || a.Email.Length > 254 || !System.Text.RegularExpressions.Regex.IsMatch(a.Email, @"^[^@\s]+@[^@\s]+\.[^@\s]+$")) problems.Add("applicant.email must be an email address.");
        if (string.IsNullOrWhiteSpace(a.BankName) || a.BankName.Length > 200) problems.Add("applicant.bankName must name the bank of the funds account, 1 to 200 characters.");
        if (a.BankAccount is null || !System.Text.RegularExpressions.Regex.IsMatch(a.BankAccount, @"^[0-9]{8,34}$")) problems.Add("applicant.bankAccount must be the account number, 8 to 34 digits.");
        var missing = RequiredDeclarations.Except(request.Declarations ?? []).ToList();
        if ((request.Declarations ?? []).Except(RequiredDeclarations).FirstOrDefault() is { } unknown) problems.Add($"declarations has '{unknown[..Math.Min(unknown.Length, 40)]}'; the declarations are {string.Join(", ", RequiredDeclarations)}.");
        if (missing.Count > 0) problems.Add($"declarations must include {string.Join(", ", missing)}: the applicant declares it understands the risks, its information is true, and it accepts the rules (Art. 17).");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        // An organisation applies for itself with its own participant token; the registry files for anyone at its desk.
        if (!user.IsInRole(Roles.Registry))
        {
            if (request.Kind != AccountApplication.Organisation) return Problems.Forbidden("A natural person applies at the registry's desk, which files the application.");
            if (!string.Equals(user.FindFirstValue(EtsClaims.ParticipantId), uscc, StringComparison.OrdinalIgnoreCase)) return Problems.Forbidden($"Your token is for {user.FindFirstValue(EtsClaims.ParticipantId)}; an organisation applies for itself.");
        }
        if (uscc is not null && (await participants.FindAsync(uscc, cancellationToken) is not null || await units.FindAsync(uscc, cancellationToken) is not null))
        {
            return Problems.Conflict($"{uscc} already has an account.");
        }
        if (uscc is not null && (await store.ListAsync(AccountApplication.Submitted, uscc, cancellationToken)).Count > 0) return Problems.Conflict($"{uscc} already has an application awaiting a decision.");

        var details = a with
        {
            Name = a.Name.Trim(), Uscc = uscc, IdNumber = a.IdNumber?.Trim().ToUpperInvariant(), ContactName = a.ContactName.Trim(), Phone = a.Phone!.Trim(), Email = a.Email!.Trim(),
            BankName = a.BankName.Trim(),
        };
        var actor = Actor.From(user);
        var application = new AccountApplication(PlatformIds.New(), request.Kind, details.Name, uscc, data.Protect(JsonSerializer.Serialize(details, DocumentRows.Json)),
            request.Declarations!.Distinct().ToList(), AccountApplication.Submitted, clock.GetUtcNow(), actor.Id);
        await store.AddAsync(application, cancellationToken);
        // The audit trail keeps who applied, not the personal data.
        await audit.RecordAsync(actor, "account-application.filed", $"account-applications/{application.Id}", null, new { application.Id, application.Kind, application.Uscc }, cancellationToken);
        return TypedResults.Created($"/api/account-applications/{application.Id}", View(application, user, data));
    }

    /// <summary>The registry decides: approved opens the account (a person's under a minted account code); refused says why.</summary>
    private static async Task<Results<Ok<AccountApplicationView>, ProblemHttpResult>> DecideAsync(string id, DecisionRequest request, HttpContext http, AccountApplicationStore store,
        ParticipantStore participants, UnitStore units, PersonalData data, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (data.Refusal is { } unavailable) return unavailable;
        if (request.Decision is not (AccountApplication.Approved or AccountApplication.Refused)) return ProblemHandling.BadRequest("decision must be 'approved' or 'refused'.");
        var reasons = request.Reasons?.Trim() ?? "";
        if (reasons.Length is 0 or > 4000) return ProblemHandling.BadRequest("reasons must say why, 1 to 4,000 characters.");
        if (await store.FindAsync(id, cancellationToken) is not var (application, etag)) return ProblemHandling.NotFound($"No account application {id}.");
        if (application.Status != AccountApplication.Submitted) return Problems.Conflict($"Application {id} is already {application.Status}.");
        if (request.Decision == AccountApplication.Approved && application.Uscc is { } code
            && (await participants.FindAsync(code, cancellationToken) is not null || await units.FindAsync(code, cancellationToken) is not null))
        {
            return Problems.Conflict($"{code} has an account since it applied; refuse this application, with that as the reason.");
        }
        var actor = Actor.From(http.User);
        var accountId = request.Decision == AccountApplication.Approved ? application.Uscc ?? MintPersonAccount() : null;
        var decided = application with { Status = request.Decision, AccountId = accountId, DecidedBy = actor.Id, DecidedAt = clock.GetUtcNow(), Reasons = reasons };
        if (!await store.TryReplaceAsync(decided, etag, cancellationToken)) return Problems.Conflict($"Application {id} was decided at the same moment by another call.");
        if (accountId is not null)
        {
            var participant = new Participant(accountId, application.Name, clock.GetUtcNow());
            await participants.PutAsync(participant, cancellationToken);
            // A natural person's name stays out of the audit trail, which the regulator reads in full.
            await audit.RecordAsync(actor, "participant.registered", $"participants/{accountId}", null,
                application.Kind == AccountApplication.Person ? new { participant.Uscc, participant.RegisteredAt } : participant, cancellationToken);
        }
        await audit.RecordAsync(actor, $"account-application.{request.Decision}", $"account-applications/{id}", new { application.Status }, new { decided.Status, decided.AccountId, reasons },
            cancellationToken);
        return TypedResults.Ok(View(decided, http.User, data));
    }

    /// <summary>A natural person's account code: shaped as a USCC (registration authority Y, Beijing), so every account-taking route takes it.</summary>
    private static string MintPersonAccount()
    {
        var body = "Y1110000" + new string(Enumerable.Range(0, 9).Select(_ => Uscc.Alphabet[RandomNumberGenerator.GetInt32(Uscc.Alphabet.Length)]).ToArray());
        return body + Uscc.CheckCharacter(body);
    }
}
