using System.Security.Claims;
using BeijingEts.Domain.Lists;
using BeijingEts.Domain.Verification;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Verification;

/// <summary>The verifiers table: each body's record (partition "verifier") and its relationships with units (partition "rel-{uscc}").</summary>
public sealed class VerifierStore(StorageClients storage)
{
    private const string Partition = "verifier";

    private TableClient Table => storage.Table(StorageNames.Tables.Verifiers);

    public Task<Verifier?> FindAsync(string uscc, CancellationToken cancellationToken) => Table.FindDocumentAsync<Verifier>(Partition, uscc, cancellationToken);

    public Task PutAsync(Verifier verifier, CancellationToken cancellationToken) => Table.UpsertDocumentAsync(Partition, verifier.Uscc, verifier, cancellationToken);

    public Task AddRelationshipAsync(string verifier, string id, VerifierRelationship relationship, CancellationToken cancellationToken) =>
        Table.AddEntityAsync(DocumentRows.Entity(RelationshipPartition(verifier), id, relationship), cancellationToken);

    public Task<IReadOnlyList<VerifierRelationship>> RelationshipsAsync(string verifier, CancellationToken cancellationToken) =>
        Table.ReadPartitionAsync<VerifierRelationship>(RelationshipPartition(verifier), cancellationToken);

    private static string RelationshipPartition(string verifier) => "rel-" + verifier;

    /// <summary>Adds the evaluation of one engagement; false if that engagement is already evaluated.</summary>
    public async Task<bool> AddEvaluationAsync(VerifierEvaluation evaluation, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(DocumentRows.Entity(EvaluationPartition(evaluation.Verifier), evaluation.Engagement, evaluation), cancellationToken);
            return true;
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<VerifierEvaluation>> EvaluationsAsync(string verifier, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<VerifierEvaluation>(EvaluationPartition(verifier), cancellationToken)).OrderBy(e => e.EvaluatedAt).ToList();

    private static string EvaluationPartition(string verifier) => "eval-" + verifier;
}

/// <summary>The regulator's evaluation of one engagement of a verification body (Art. 26): how well it was done, 0 to 100, and why.</summary>
/// <summary>The regulator's evaluation of one engagement (Art. 26), citing any enforcement cases it rests on.</summary>
public sealed record VerifierEvaluation(string Verifier, string Unit, int Year, string Engagement, int Score, string Notes, DateTimeOffset EvaluatedAt, string EvaluatedBy,
    IReadOnlyList<string>? Cases = null);

/// <summary>
/// PUT /api/verifiers/{uscc} (regulator): a verification body's record against Art. 24; GET: the record and its
/// relationships. POST /api/verifiers/{uscc}/relationships (regulator): a testing, inspection or management service it
/// gave a unit, which bars it from verifying that unit for two years (Art. 24 (5)).
/// </summary>
public sealed class VerifierEndpoints : IHttpFunction
{
    public sealed record Request(string Name, bool RegisteredInPrc, bool IndependentLegalPerson, bool FixedOffice,
        IReadOnlyList<string> QualityManagement, IReadOnlyList<string> GhgExperience, IReadOnlyList<VerifierStaff> Staff);

    public sealed record RelationshipRequest(string Unit, RelatedService Service, DateOnly From, DateOnly? To = null);

    public sealed record VerifierView(Verifier Verifier, IReadOnlyList<VerifierRelationship> Relationships, IReadOnlyList<VerifierEvaluation> Evaluations, decimal? AverageScore);

    public sealed record EvaluationRequest(string Unit, int Year, int Score, string Notes, IReadOnlyList<string>? Cases = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/verifiers/{uscc}", PutAsync).WithTags("Verification");
        api.MapGet("/verifiers/{uscc}", GetAsync).WithTags("Verification");
        api.MapPost("/verifiers/{uscc}/relationships", AddRelationshipAsync).WithTags("Verification");
        api.MapPost("/verifiers/{uscc}/evaluations", EvaluateAsync).WithTags("Verification");
    }

    private static async Task<Results<Ok<Verifier>, ProblemHttpResult>> PutAsync(
        string uscc, Request request, HttpContext http, VerifierStore verifiers, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Name)) problems.Add("name is missing.");
        foreach (var (staff, i) in request.Staff.Select((s, i) => (s, i)))
        {
            if (string.IsNullOrWhiteSpace(staff.Id)) problems.Add($"staff[{i}].id is missing.");
            foreach (var (industry, years) in staff.ExperienceYears)
            {
                if (!Industries.IsKnown(industry)) problems.Add($"staff[{i}].experienceYears has unknown industry '{industry}'; the industries are {string.Join(", ", Industries.All)}.");
                if (years is < 0 or > 60) problems.Add($"staff[{i}].experienceYears.{industry} is {years}; give whole years from 0 to 60.");
            }
        }
        foreach (var id in request.Staff.GroupBy(s => s.Id).Where(g => g.Count() > 1)) problems.Add($"staff id '{id.Key}' is listed twice.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var verifier = new Verifier(code, request.Name.Trim(), request.RegisteredInPrc, request.IndependentLegalPerson, request.FixedOffice,
            request.QualityManagement, request.GhgExperience, request.Staff);
        var before = await verifiers.FindAsync(code, cancellationToken);
        await verifiers.PutAsync(verifier, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "verifier.set", $"verifiers/{code}", before, verifier, cancellationToken);
        return TypedResults.Ok(verifier);
    }

    /// <summary>
    /// The body's record, with the relationships and evaluations the caller may read: each concerns a unit, so it is
    /// scoped like that unit's reports (the regulator all, a district its units, a unit itself); a body reads its own in
    /// full and no other body's.
    /// </summary>
    private static async Task<Results<Ok<VerifierView>, ProblemHttpResult>> GetAsync(
        string uscc, HttpContext http, VerifierStore verifiers, UnitStore units, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        var self = string.Equals(http.User.FindFirstValue(EtsClaims.VerifierId), code, StringComparison.OrdinalIgnoreCase);
        if ((http.User.IsInRole(Roles.Verifier) && !self) || await verifiers.FindAsync(code, cancellationToken) is not { } verifier)
        {
            return ProblemHandling.NotFound($"No verification body {code} is on record; the regulator records it with PUT /api/verifiers/{code}.");
        }
        var relationships = await verifiers.RelationshipsAsync(code, cancellationToken);
        var evaluations = await verifiers.EvaluationsAsync(code, cancellationToken);
        if (!self)
        {
            var visible = await VisibleUnits.FilterAsync(http.User, relationships.Select(r => r.Unit).Concat(evaluations.Select(e => e.Unit)), units, cancellationToken);
            relationships = relationships.Where(r => visible.Contains(r.Unit)).ToList();
            evaluations = evaluations.Where(e => visible.Contains(e.Unit)).ToList();
        }
        decimal? average = evaluations.Count == 0 ? null : Math.Round(evaluations.Average(e => (decimal)e.Score), 1);
        return TypedResults.Ok(new VerifierView(verifier, relationships, evaluations, average));
    }

    /// <summary>POST /api/verifiers/{uscc}/evaluations (regulator, Art. 26): scores the body's engagement for a unit-year, once.</summary>
    private static async Task<Results<Created<VerifierEvaluation>, ProblemHttpResult>> EvaluateAsync(
        string uscc, EvaluationRequest request, HttpContext http, VerifierStore verifiers, VerificationStore verifications, Supervision.CaseStore cases, AuditLog audit,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        if (await verifiers.FindAsync(code, cancellationToken) is null) return ProblemHandling.NotFound($"No verification body {code} is on record.");
        if (!UnitInput.TryParse(request.Unit, out var unit, out var badUnit)) return badUnit!;
        var problems = new List<string>();
        if (request.Score is < 0 or > 100) problems.Add($"score is {request.Score}; give a whole number from 0 to 100.");
        if (string.IsNullOrWhiteSpace(request.Notes)) problems.Add("notes are missing: say what the score rests on (how the work was done, how accurate its figures were).");
        else if (request.Notes.Length > BeijingEts.Domain.Reporting.ReportLimits.MaxText) problems.Add($"notes are over {BeijingEts.Domain.Reporting.ReportLimits.MaxText} characters.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var engagement = await verifications.FindAsync(unit, request.Year, cancellationToken);
        if (engagement is null || engagement.Verifier != code)
        {
            return Problems.Unprocessable($"Verification body {code} has no engagement for unit {unit}'s {request.Year} report; only an engagement can be evaluated.");
        }
        if (engagement.Status == VerificationStatus.AwaitingUpload)
        {
            return Problems.Unprocessable($"The engagement for unit {unit}'s {request.Year} report is still awaiting its uploads; evaluate it once they are processed.");
        }
        var cited = (request.Cases ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (cited.Count > 20) return ProblemHandling.BadRequest("cases cites at most 20 cases.");
        foreach (var caseId in cited)
        {
            // A case cited must be about this body, or about the evaluated unit's year.
            var found = caseId.Length <= 200 ? (await cases.FindAsync(caseId, cancellationToken))?.Case : null;
            var about = found is not null && ((found.Party.Kind == Supervision.PartyKinds.Verifier && found.Party.Id == code)
                || (found.Party.Kind == Supervision.PartyKinds.Unit && found.Party.Id == unit && found.Year == request.Year));
            if (!about) return Problems.Unprocessable($"Case {caseId} is not a case about verification body {code} or unit {unit}'s {request.Year} year; cite only cases this evaluation rests on.");
        }
        var actor = Actor.From(http.User);
        var evaluation = new VerifierEvaluation(code, unit, request.Year, engagement.Engagement, request.Score, request.Notes.Trim(), clock.GetUtcNow(), actor.Id,
            cited.Count > 0 ? cited : null);
        if (!await verifiers.AddEvaluationAsync(evaluation, cancellationToken))
        {
            return Problems.Conflict($"Engagement {engagement.Engagement} (unit {unit}, {request.Year}) is already evaluated; its evaluation is in GET /api/verifiers/{code}.");
        }
        await audit.RecordAsync(actor, "verifier.evaluated", $"verifiers/{code}", null, evaluation, cancellationToken);
        return TypedResults.Created($"/api/verifiers/{code}", evaluation);
    }

    private static async Task<Results<Created<VerifierRelationship>, ProblemHttpResult>> AddRelationshipAsync(
        string uscc, RelationshipRequest request, HttpContext http, VerifierStore verifiers, UnitStore units, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        if (await verifiers.FindAsync(code, cancellationToken) is null) return ProblemHandling.NotFound($"No verification body {code} is on record.");
        if (!UnitInput.TryParse(request.Unit, out var unit, out var badUnit)) return badUnit!;
        if (await units.FindAsync(unit, cancellationToken) is null) return Problems.UnknownUnit(unit);
        if (request.To is { } to && to < request.From) return ProblemHandling.BadRequest($"to {to:yyyy-MM-dd} is before from {request.From:yyyy-MM-dd}.");
        var relationship = new VerifierRelationship(unit, request.Service, request.From, request.To);
        var id = Guid.NewGuid().ToString("N");
        await verifiers.AddRelationshipAsync(code, id, relationship, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "verifier.relationship-added", $"verifiers/{code}", null, relationship, cancellationToken);
        return TypedResults.Created($"/api/verifiers/{code}", relationship);
    }
}

/// <summary>
/// GET /api/verifiers/{uscc}/eligibility?unit=&amp;year=[&amp;leadVerifier=] (regulator, district, the unit): whether the body
/// may verify the unit's report for the year, engaged today, and if not every Art. 24 condition it fails.
/// </summary>
public sealed class GetVerifierEligibility : IHttpFunction
{
    public sealed record Answer(string Verifier, string Unit, int Year, string Industry, DateOnly EngagedOn, bool Eligible, IReadOnlyList<string> Failures);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/verifiers/{uscc}/eligibility", HandleAsync).WithTags("Verification");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(
        string uscc, string? unit, int? year, string? leadVerifier, HttpContext http, VerifierEligibilityService eligibility, CancellationToken cancellationToken)
    {
        if (unit is null || year is null) return ProblemHandling.BadRequest("Give the unit and the year: ?unit={uscc}&year={yyyy}.");
        return await eligibility.CheckAsync(uscc, unit, year.Value, leadVerifier, http.User, cancellationToken);
    }
}

public sealed class VerifierEligibilityService(VerifierStore verifiers, UnitStore units, TimeProvider clock)
{
    public async Task<Results<Ok<GetVerifierEligibility.Answer>, ProblemHttpResult>> CheckAsync(
        string verifierText, string unitText, int year, string? leadVerifier, System.Security.Claims.ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(verifierText, out var code, out var invalid)) return invalid!;
        var (unit, problem) = await UnitInput.FindVisibleAsync(unitText, user, units, $"Unit {unitText}'s verification is arranged by the unit, its district bureau and the regulator.", cancellationToken);
        if (unit is null) return problem!;
        return await AnswerAsync(code, unit, year, leadVerifier, cancellationToken) is { } answer
            ? TypedResults.Ok(answer)
            : ProblemHandling.NotFound($"No verification body {code} is on record.");
    }

    /// <summary>Whether the body may verify the unit's report for the year if engaged today; null if no such body is on record.</summary>
    public async Task<GetVerifierEligibility.Answer?> AnswerAsync(string verifierUscc, UnitRecord unit, int year, string? leadVerifier, CancellationToken cancellationToken)
    {
        var verifier = await verifiers.FindAsync(verifierUscc, cancellationToken);
        if (verifier is null) return null;
        var engagedOn = BeijingTime.Today(clock);
        var failures = VerifierEligibility.Failures(verifier, unit.Uscc, unit.Industry, leadVerifier, await verifiers.RelationshipsAsync(verifierUscc, cancellationToken), engagedOn);
        return new GetVerifierEligibility.Answer(verifierUscc, unit.Uscc, year, unit.Industry, engagedOn, failures.Count == 0, failures);
    }
}
