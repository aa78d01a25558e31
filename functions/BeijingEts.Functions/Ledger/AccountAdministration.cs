using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Ledger;

/// <summary>PUT /api/participants/{uscc} (regulator): registers a voluntary participant, which opens its holding account.</summary>
public sealed class PutParticipant : IHttpFunction
{
    public sealed record Request(string Name);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/participants/{uscc}", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<Participant>, ProblemHttpResult>> HandleAsync(
        string uscc, Request request, HttpContext http, ParticipantStore participants, UnitStore units, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var invalid)) return invalid!;
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 200) return ProblemHandling.BadRequest("name must be 1 to 200 characters.");
        if (await units.FindAsync(code, cancellationToken) is not null)
        {
            return Problems.Conflict($"{code} is a registered unit and already has its account; participants are those not on the list.");
        }
        var before = await participants.FindAsync(code, cancellationToken);
        var after = new Participant(code, request.Name.Trim(), before?.RegisteredAt ?? clock.GetUtcNow());
        await participants.PutAsync(after, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), before is null ? "participant.registered" : "participant.updated", $"participants/{code}", before, after, cancellationToken);
        return TypedResults.Ok(after);
    }
}

/// <summary>
/// POST /api/accounts/{accountId}/suspensions (regulator, Art. 16): stops the account sending (transfers, cancellations,
/// surrenders) until lifted; it can still receive. POST /api/accounts/{accountId}/suspensions/{id}/lift lifts one.
/// </summary>
public sealed class SuspendAccount : IHttpFunction
{
    public enum SuspensionReason { CourtFreeze, SurrenderRisk, Other }

    /// <summary>The reason as the Chinese notice names it (the API and the English text keep the code, e.g. court-freeze).</summary>
    public static string ChineseLabel(SuspensionReason reason) => reason switch
    {
        SuspensionReason.CourtFreeze => "司法冻结",
        SuspensionReason.SurrenderRisk => "存在配额清缴履约风险",
        SuspensionReason.Other => "其他原因",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "A suspension reason without a Chinese label."),
    };

    public sealed record Request(SuspensionReason Reason, string Reference);

    public sealed record SuspensionView(string AccountId, string SuspensionId, string Reason, string Reference, string Status, IReadOnlyList<string> ActiveSuspensions);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/accounts/{accountId}/suspensions", SuspendAsync).WithTags("Ledger");
        api.MapPost("/accounts/{accountId}/suspensions/{suspensionId}/lift", LiftAsync).WithTags("Ledger");
    }

    private static async Task<Results<Created<SuspensionView>, ProblemHttpResult>> SuspendAsync(
        string accountId, Request request, HttpContext http, AccountDirectory accounts, ParticipantStore participants, LedgerStore ledger, AuditLog audit,
        Market.SellOrderCancellation sellOrders, NoticeOutbox notices, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Reference)) return ProblemHandling.BadRequest("reference is required: the court order, decision or file number behind the suspension.");
        if (request.Reference.Length > 500) return ProblemHandling.BadRequest("reference may be at most 500 characters: the court order, decision or file number, not the document itself.");
        // The registry suspends voluntary participants' accounts (Art. 13); a unit's stays with the regulator's supervision.
        if (http.User.IsInRole(Roles.Registry) && (!Lists.UnitInput.TryParse(accountId, out var code, out _) || await participants.FindAsync(code, cancellationToken) is null))
        {
            return Problems.Unprocessable($"The registry suspends voluntary participants' accounts; {accountId} is not one (a unit's account is suspended by the regulator).");
        }
        if (RegulatorAccounts.Is(accountId) || !await accounts.ExistsAsync(accountId, cancellationToken))
        {
            return ProblemHandling.NotFound($"No holding account {accountId}; suspension applies to unit and participant accounts.");
        }
        var reason = JsonNamingPolicy.KebabCaseLower.ConvertName(request.Reason.ToString());
        var id = $"{reason}-{Guid.NewGuid():N}"[..(reason.Length + 9)];
        var before = await ledger.ReadAccountAsync(accountId, cancellationToken);
        var active = await ledger.ChangeSuspensionsAsync(accountId, current => [.. current, id], cancellationToken);
        var view = new SuspensionView(accountId, id, reason, request.Reference.Trim(), "active", active);
        await audit.RecordAsync(Actor.From(http.User), "account.suspended", $"accounts/{accountId}", before.Suspensions, view, cancellationToken);
        // It can no longer sell: what it has on offer comes off the market, and the frozen tonnes come back (Art. 16).
        await sellOrders.CancelOpenSellOrdersAsync(accountId, $"cancelled: account suspended ({reason})", cancellationToken);
        var holder = await participants.FindAsync(accountId, cancellationToken) is not null ? new Party(Roles.Participant, accountId) : Party.Unit(accountId);
        await notices.PublishAsync(NoticeTemplates.AccountSuspended(holder, accountId, id,
            $"{ChineseLabel(request.Reason)}（{request.Reference.Trim()}）", $"{reason} ({request.Reference.Trim()})"), cancellationToken);
        return TypedResults.Created($"/api/accounts/{accountId}/suspensions/{id}", view);
    }

    private static async Task<Results<Ok<SuspensionView>, ProblemHttpResult>> LiftAsync(
        string accountId, string suspensionId, HttpContext http, LedgerStore ledger, AuditLog audit, CancellationToken cancellationToken)
    {
        var before = await ledger.ReadAccountAsync(accountId, cancellationToken);
        if (!before.Suspensions.Contains(suspensionId)) return ProblemHandling.NotFound($"Account {accountId} has no active suspension {suspensionId}.");
        var active = await ledger.ChangeSuspensionsAsync(accountId, current => current.Where(s => s != suspensionId).ToList(), cancellationToken);
        var view = new SuspensionView(accountId, suspensionId, suspensionId[..suspensionId.LastIndexOf('-')], "", "lifted", active);
        await audit.RecordAsync(Actor.From(http.User), "account.suspension-lifted", $"accounts/{accountId}", before.Suspensions, view, cancellationToken);
        return TypedResults.Ok(view);
    }
}
