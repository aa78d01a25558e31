using BeijingEts.Domain.Calendar;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Allocation;

/// <summary>An objection to a free allocation (Art. 15): filed within 7 working days of receiving it, decided within 10 of filing.</summary>
public sealed record Objection(
    string Id, int Year, string Uscc, string District, string Reason, DateOnly ReceivedOn, DateOnly FiledOn, DateOnly DecisionDeadline,
    string State, string? Outcome = null, Tonnes? Adjustment = null, DateOnly? DecidedOn = null, string? AdjustmentTransactionId = null, string? Explanation = null)
{
    public const int FilingWorkingDays = 7;
    public const int DecisionWorkingDays = 10;

    /// <summary>Open past its decision deadline, or decided after it.</summary>
    public bool OverdueOn(DateOnly today) => (DecidedOn ?? today) > DecisionDeadline;
}

public sealed record ObjectionView(Objection Objection, bool Overdue);

public sealed class ObjectionStore(StorageClients storage)
{
    private const string Partition = "objection";

    private TableClient Table => storage.Table(StorageNames.Tables.Objections);

    public async Task<(Objection Objection, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!PlatformIds.IsValid(id)) return null; // the "open" guard rows share the partition; no caller reads them as objections
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? (JsonSerializer.Deserialize<Objection>(row.Value!.GetString("Document"), AuditLog.AuditJson)!, row.Value.ETag) : null;
    }

    /// <summary>Every objection (a few a year): the reserve's account of what upheld ones paid.</summary>
    public async Task<IReadOnlyList<Objection>> ListAsync(CancellationToken cancellationToken)
    {
        var found = new List<Objection>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == Partition, cancellationToken: cancellationToken))
        {
            if (PlatformIds.IsValid(row.RowKey)) found.Add(JsonSerializer.Deserialize<Objection>(row.GetString("Document"), AuditLog.AuditJson)!);
        }
        return found;
    }

    /// <summary>Adds an objection unless the unit already has an open one for the year (an "open" row in the same transaction).</summary>
    public async Task<bool> TryAddAsync(Objection objection, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition, OpenKey(objection)) { ["ObjectionId"] = objection.Id }),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(objection)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Records the decision and frees the unit to object again, in one transaction guarded by the ETag read.</summary>
    public Task DecideAsync(Objection decided, ETag etag, CancellationToken cancellationToken) =>
        Table.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(decided), etag),
            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, OpenKey(decided)), ETag.All),
        ], cancellationToken);

    private static TableEntity ToEntity(Objection o) => new(Partition, o.Id) { ["Document"] = JsonSerializer.Serialize(o, AuditLog.AuditJson) };

    private static string OpenKey(Objection o) => $"open-{o.Year}-{o.Uscc}";
}

/// <summary>POST /api/allocation/{year}/units/{uscc}/objections (the unit): objects to its allocation within 7 working days (Art. 15).</summary>
public sealed class FileObjection : IHttpFunction
{
    public sealed record Request(string Reason);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/allocation/{year:int}/units/{uscc}/objections", HandleAsync).WithTags("Allocation");

    private static async Task<Results<Created<ObjectionView>, ProblemHttpResult>> HandleAsync(
        int year, string uscc, Request request, HttpContext http, UnitStore units, AllocationStore allocations, ObjectionStore objections, NoticeStore notices,
        NoticeSettings noticeSettings, NoticeOutbox outbox, CalendarService calendar, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "An objection is filed by the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        if (string.IsNullOrWhiteSpace(request.Reason)) return ProblemHandling.BadRequest("reason is required: say what in the allocation is wrong.");
        if (request.Reason.Length > 4000) return ProblemHandling.BadRequest("reason is longer than 4000 characters."); // a longer one cannot be stored
        var allocation = await allocations.FindAsync(year, unit.Uscc, cancellationToken);
        if (allocation?.ReceivedOn is not { } issuedOn) return ProblemHandling.NotFound($"Unit {unit.Uscc} has received no {year} allocation to object to.");

        var working = await calendar.GetAsync(cancellationToken);
        var today = BeijingTime.Today(clock);
        var (receivedOn, how) = await ReceivedAsync(allocation, issuedOn, today, notices, noticeSettings, working, cancellationToken);
        var filingDeadline = working.AddWorkingDays(receivedOn, Objection.FilingWorkingDays);
        if (today > filingDeadline)
        {
            return Problems.Unprocessable($"The {year} allocation result was issued on {issuedOn:yyyy-MM-dd} and received on {receivedOn:yyyy-MM-dd} ({how}); objections were due by {filingDeadline:yyyy-MM-dd} (7 working days from receipt, Art. 15).",
                new Dictionary<string, object?> { ["issuedOn"] = issuedOn, ["receivedOn"] = receivedOn, ["filingDeadline"] = filingDeadline });
        }
        var objection = new Objection(PlatformIds.New(), year, unit.Uscc, unit.District, request.Reason.Trim(), receivedOn, today,
            working.AddWorkingDays(today, Objection.DecisionWorkingDays), "open");
        if (!await objections.TryAddAsync(objection, cancellationToken))
        {
            return Problems.Conflict($"Unit {unit.Uscc} already has an open objection to its {year} allocation; it is decided before another is filed.");
        }
        await audit.RecordAsync(Actor.From(http.User), "objection.filed", $"objections/{objection.Id}", null, objection, cancellationToken);
        await outbox.PublishAsync(NoticeTemplates.ObjectionFiled(objection), cancellationToken); // the regulator decides it by its deadline (Art. 15)
        return TypedResults.Created($"/api/objections/{objection.Id}", new ObjectionView(objection, objection.OverdueOn(today)));
    }

    /// <summary>
    /// When the unit received its latest allocation result (Art. 15: the 7 working days run "from receiving" it): see
    /// <see cref="NoticeReceipt"/>. A result whose notice has not reached the unit yet has not started the window (the
    /// objection itself shows it arrived: today); one issued before notices existed counts from its issue.
    /// </summary>
    public static async Task<(DateOnly On, string How)> ReceivedAsync(UnitAllocation allocation, DateOnly issuedOn, DateOnly today, NoticeStore notices,
        NoticeSettings settings, WorkingDayCalendar calendar, CancellationToken cancellationToken) =>
        await NoticeReceivedAsync(allocation, issuedOn, today, notices, settings, calendar, cancellationToken)
            ?? (today, "its notice had not reached the unit before this objection");

    /// <summary>When the latest result's notice reached the unit, by today; null while it has not (the window has not begun).</summary>
    public static async Task<(DateOnly On, string How)?> NoticeReceivedAsync(UnitAllocation allocation, DateOnly issuedOn, DateOnly today, NoticeStore notices,
        NoticeSettings settings, WorkingDayCalendar calendar, CancellationToken cancellationToken)
    {
        var id = allocation.VerifiedOn is not null ? $"allocation-verified-{allocation.Year}" : $"allocation-pre-{allocation.Year}";
        if (await notices.FindAsync(Party.Unit(allocation.Uscc), id, cancellationToken) is not var (notice, _)) return (issuedOn, "issued before notices were sent");
        return NoticeReceipt.Of(notice, calendar, settings.DeemedReceiptWorkingDays) is { } received && received.On <= today ? received : null;
    }
}

/// <summary>
/// POST /api/objections/{id}/decision (regulator): upholds or rejects; an upheld objection may carry an adjustment, paid
/// to the unit from the adjustment reserve (Art. 12) through the ledger, which is proposed (202) and takes a second regulator's approval.
/// </summary>
public sealed class DecideObjection : IHttpFunction
{
    public enum DecisionOutcome { Upheld, Rejected }

    public sealed record Request(DecisionOutcome Outcome, string? Explanation = null, Tonnes? Adjustment = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/objections/{id}/decision", HandleAsync).WithTags("Allocation");
        api.MapGet("/objections/{id}", GetAsync).WithTags("Allocation");
    }

    private static async Task<Results<Ok<ObjectionView>, Accepted<ProposalReceipt>, ProblemHttpResult>> HandleAsync(
        string id, Request request, HttpContext http, ObjectionStore objections, ObjectionDecisions decisions, ApprovalService approvals, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (request.Adjustment is { Value: <= 0 }) return ProblemHandling.BadRequest("adjustment must be a positive whole number of tonnes, or left out.");
        if (request.Adjustment is not null && request.Outcome == DecisionOutcome.Rejected) return ProblemHandling.BadRequest("A rejected objection carries no adjustment.");
        if (request.Explanation?.Length > 2000) return ProblemHandling.BadRequest("explanation is longer than 2000 characters.");
        var found = await objections.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No objection {id}.");
        var objection = found.Value.Objection;
        if (objection.State != "open") return Problems.Conflict($"Objection {id} was already decided on {objection.DecidedOn:yyyy-MM-dd}.");

        var actor = Actor.From(http.User);
        if (request.Adjustment is { } adjustment)
        {
            // A payment from the adjustment reserve (Art. 12) cannot be undone: a second regulator approves it.
            var (_, proposal) = await approvals.ProposeAsync(ObjectionAdjustmentApproval.KindName, $"objections/{id}",
                $"uphold objection {id} of {objection.Uscc} ({objection.Year}) and pay {adjustment.Value} t from the reserve", new ObjectionAdjustmentApproval.Payload(id, request),
                actor, cancellationToken);
            return ProposalReceipt.Accepted(proposal);
        }
        return await decisions.DecideAsync(id, request, actor, cancellationToken) switch
        {
            { Decided: { } decided } => TypedResults.Ok(new ObjectionView(decided, decided.OverdueOn(BeijingTime.Today(clock)))),
            { Refusal: var refusal } => Problems.Conflict(refusal!),
        };
    }

    private static async Task<Results<Ok<ObjectionView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, ObjectionStore objections, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await objections.FindAsync(id, cancellationToken);
        if (found is null || UnitAccess.Check(http.User, found.Value.Objection.Uscc, found.Value.Objection.District) != AccessVerdict.Allowed)
        {
            return ProblemHandling.NotFound($"No objection {id} that you may see.");
        }
        return TypedResults.Ok(new ObjectionView(found.Value.Objection, found.Value.Objection.OverdueOn(BeijingTime.Today(clock))));
    }
}

/// <summary>What deciding an objection came to: the decided objection, or why it could not be decided.</summary>
public sealed record ObjectionDecision(Objection? Decided, string? Refusal);

/// <summary>Decides an objection and pays an adjustment to the unit from the reserve through the ledger (Art. 12, 15).</summary>
public sealed class ObjectionDecisions(ObjectionStore objections, LedgerSubmitter submitter, NoticeOutbox notices, AuditLog audit, TimeProvider clock)
{
    /// <summary>Deciding again the way it was decided pays nothing twice: the payment's id is the objection's.</summary>
    public async Task<ObjectionDecision> DecideAsync(string id, DecideObjection.Request request, Actor actor, CancellationToken cancellationToken)
    {
        var found = await objections.FindAsync(id, cancellationToken);
        if (found is null) return new(null, $"No objection {id}.");
        var (objection, etag) = found.Value;
        var outcome = JsonNamingPolicy.KebabCaseLower.ConvertName(request.Outcome.ToString());
        var paymentId = request.Adjustment is null ? null : LedgerIds.ObjectionPayout(id);
        if (objection.State != "open")
        {
            var same = objection.Outcome == outcome && objection.Adjustment == request.Adjustment && objection.AdjustmentTransactionId == paymentId;
            if (!same) return new(null, $"Objection {id} was already decided on {objection.DecidedOn:yyyy-MM-dd}.");
            if (paymentId is not null) await submitter.SubmitAsync(Payment(objection, paymentId, actor), cancellationToken); // finishes a cut-off payment
            await notices.PublishAsync(Notice(objection), cancellationToken);
            return new(objection, null);
        }
        var decided = objection with
        {
            State = "decided",
            Outcome = outcome,
            Adjustment = request.Adjustment,
            DecidedOn = BeijingTime.Today(clock),
            AdjustmentTransactionId = paymentId,
            Explanation = request.Explanation?.Trim(),
        };
        try
        {
            await objections.DecideAsync(decided, etag, cancellationToken);
        }
        catch (TableTransactionFailedException error) when (error.Status == 412)
        {
            return new(null, $"Objection {id} was decided by someone else just now.");
        }
        if (paymentId is not null) await submitter.SubmitAsync(Payment(decided, paymentId, actor), cancellationToken);
        await audit.RecordAsync(actor, "objection.decided", $"objections/{id}", objection, decided, cancellationToken);
        await notices.PublishAsync(Notice(decided), cancellationToken);
        return new(decided, null);
    }

    private static NoticeDraft Notice(Objection decided) =>
        NoticeTemplates.ObjectionDecided(decided.Uscc, decided.Id, decided.Year, decided.Outcome == "upheld", decided.Adjustment);

    private LedgerTransaction Payment(Objection objection, string paymentId, Actor actor) =>
        new(paymentId, Domain.Ledger.TransactionType.Allocation, RegulatorAccounts.Reserve, objection.Uscc, Products.Bea, objection.Year, objection.Adjustment!.Value,
            null, $"Art. 15 adjustment on objection {objection.Id}", actor.Id, clock.GetUtcNow());
}

/// <summary>POST /api/objections/{id}/decision that pays an adjustment from the reserve, once a second regulator approves it.</summary>
public sealed class ObjectionAdjustmentApproval(ObjectionDecisions decisions) : ApprovableAction<ObjectionAdjustmentApproval.Payload>
{
    public const string KindName = "objection.adjustment";

    public sealed record Payload(string ObjectionId, DecideObjection.Request Decision);

    public override string Kind => KindName;

    protected override async Task<ActionOutcome> ExecuteAsync(Domain.Approvals.Proposal proposal, Payload payload, Actor approver, CancellationToken cancellationToken) =>
        await decisions.DecideAsync(payload.ObjectionId, payload.Decision, approver, cancellationToken) switch
        {
            { Decided: { } decided } => ActionOutcome.Executed(
                $"objection {decided.Id} upheld; {decided.Adjustment?.Value} t paid from the reserve as transaction {decided.AdjustmentTransactionId}"),
            { Refusal: var refusal } => ActionOutcome.Failed(refusal!),
        };
}
