using System.Security.Cryptography;
using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Uploads;
using UglyToad.PdfPig;

namespace BeijingEts.Functions.Verification;

/// <summary>The verification statement as a verification body uploads it.</summary>
public sealed record VerificationStatement(
    string Unit, int Year, int ReportVersion, Tonnes DirectEmissionsT, Tonnes IndirectEmissionsT, Tonnes TotalEmissionsT,
    VerificationOpinion Opinion, IReadOnlyList<JsonElement> Misstatements, IReadOnlyList<JsonElement> NonConformities);

/// <summary>What makes an uploaded verification document acceptable: pure checks, each failure a sentence the body can act on.</summary>
public static class VerificationDocumentChecks
{
    private static readonly JsonSerializerOptions StatementJson = Strict();

    private static JsonSerializerOptions Strict()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ProblemHandling.ConfigureCommandJson(options);
        return options;
    }

    /// <summary>Null if the bytes are a PDF with at least one readable page, read within <paramref name="limits"/>; else why not.</summary>
    public static string? PdfProblem(byte[] content, PdfLimits limits)
    {
        if (content.Length < 5 || !content.AsSpan(0, 5).SequenceEqual("%PDF-"u8)) return "The verification report is not a PDF (it does not start with %PDF-); upload the report as a PDF file.";
        using var deadline = new CancellationTokenSource(limits.MaxTime);
        try
        {
            using var document = BoundedPdf.Open(content, limits, deadline.Token);
            if (document.NumberOfPages < 1) return "The verification report PDF has no pages.";
            // Reading the first page decodes its content and fonts within the budget; its text is not built into a string.
            _ = document.GetPage(1);
            deadline.Token.ThrowIfCancellationRequested();
            return null;
        }
        catch (PdfLimitException error)
        {
            return $"The verification report PDF cannot be checked: {error.Message}; upload a plain, intact PDF file.";
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return $"The verification report PDF took longer than {limits.MaxTime.TotalSeconds:0} seconds to read; upload a plain, intact PDF file.";
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return $"The verification report is not a readable PDF ({error.Message.TrimEnd('.')}); upload an intact PDF file.";
        }
    }

    /// <summary>The statement if it is valid JSON of the right shape that names this engagement's unit, year and report version and adds up; else every problem.</summary>
    public static (VerificationStatement? Statement, IReadOnlyList<string> Problems) ReadStatement(byte[] content, VerificationRecord engagement)
    {
        VerificationStatement? statement;
        try
        {
            statement = JsonSerializer.Deserialize<VerificationStatement>(content, StatementJson);
        }
        catch (JsonException error)
        {
            return (null, [$"The verification statement is not valid: {ProblemHandling.DescribeJsonError(error, typeof(VerificationStatement))}"]);
        }
        if (statement is null) return (null, ["The verification statement is JSON null; upload the statement object."]);
        var problems = new List<string>();
        var unit = Uscc.TryParse(statement.Unit, out var named, out _) ? named.Value : statement.Unit;
        if (unit != engagement.Uscc) problems.Add($"The statement names unit {statement.Unit}, but this link is for unit {engagement.Uscc}.");
        if (statement.Year != engagement.Year) problems.Add($"The statement is for {statement.Year}, but this link is for the {engagement.Year} report.");
        if (statement.ReportVersion != engagement.ReportVersion) problems.Add($"The statement verifies report version {statement.ReportVersion}, but this engagement is for version {engagement.ReportVersion}.");
        foreach (var (name, value) in new[] { ("directEmissionsT", statement.DirectEmissionsT), ("indirectEmissionsT", statement.IndirectEmissionsT), ("totalEmissionsT", statement.TotalEmissionsT) })
        {
            if (value.Value < 0) problems.Add($"{name} is {value.Value}; emissions cannot be negative.");
        }
        if (statement.DirectEmissionsT.Value + statement.IndirectEmissionsT.Value != statement.TotalEmissionsT.Value)
        {
            problems.Add($"The figures do not add up: direct {statement.DirectEmissionsT.Value} t + indirect {statement.IndirectEmissionsT.Value} t is {statement.DirectEmissionsT.Value + statement.IndirectEmissionsT.Value} t, not the total {statement.TotalEmissionsT.Value} t.");
        }
        return (problems.Count == 0 ? statement : null, problems);
    }

    /// <summary>Why the regulator should look at an accepted verification, or null: a total off the reported one by more than the threshold, or no positive opinion.</summary>
    public static string? FlagReason(Tonnes reported, VerifiedFigures verified, decimal thresholdPercent)
    {
        var reasons = new List<string>();
        var difference = Math.Abs(verified.TotalEmissionsT.Value - reported.Value);
        if (difference * 100m > reported.Value * thresholdPercent)
        {
            var percent = reported.Value == 0 ? "" : $" ({difference * 100m / reported.Value:0.##}%)";
            reasons.Add($"The verified total {verified.TotalEmissionsT.Value} t differs from the reported {reported.Value} t by {difference} t{percent}, over the {thresholdPercent:0.##}% threshold.");
        }
        if (verified.Opinion == VerificationOpinion.NotVerified) reasons.Add("The verification body gave the opinion not-verified.");
        return reasons.Count == 0 ? null : string.Join(" ", reasons);
    }
}

/// <summary>
/// Files what a verification body uploads through its links (verification/{uscc}/{year}/{engagement}/...): checks the
/// document, records its SHA-256, size and retention against the engagement, and sets the status. Both documents
/// valid: accepted, with the verified total, flagged if it strays past the threshold. Any document invalid: rejected,
/// with the reason, until the unit engages again; one over its size limit is refused before it is read or kept
/// (RecordBlobArrival). An upload through a superseded engagement's link, or a repeated event, changes nothing.
/// </summary>
public sealed class VerificationUploads(StorageClients storage, VerificationStore verifications, VerificationSettings settings, Supervision.DistrictCheckService checks,
    NoticeOutbox notices, AuditLog audit, TimeProvider clock, ILogger<VerificationUploads> logger) : IUploadHandler
{
    public string Prefix => VerificationPaths.Root;

    public long MaxBytes(string blobName) =>
        VerificationPaths.TryParse(blobName, out _, out _, out _, out var kind) ? Limit(kind) : settings.MaxStatementBytes;

    /// <summary>Rejects the engagement for an upload over its limit; the document is not kept, so none is recorded.</summary>
    public async Task RefuseAsync(UploadRecord upload, long limit, CancellationToken cancellationToken)
    {
        if (!VerificationPaths.TryParse(upload.BlobName, out var uscc, out var year, out var engagement, out var kind)) return;
        var rejection = $"The verification {Name(kind)} is {upload.ContentLength} bytes, over the {limit}-byte limit; it was not kept. Upload a smaller file.";
        await FileAsync(uscc, year, engagement, kind, current => Reject(current, rejection, clock.GetUtcNow()), cancellationToken);
    }

    public async Task HandleAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        if (!VerificationPaths.TryParse(upload.BlobName, out var uscc, out var year, out var engagement, out var kind))
        {
            logger.LogWarning("Upload {BlobName} is under {Root} but not at a verification document's path; ignored", upload.BlobName, Prefix);
            return;
        }
        var record = await verifications.FindAsync(uscc, year, cancellationToken);
        if (record is null || record.Engagement != engagement)
        {
            logger.LogWarning("Upload {BlobName} came through a link of a superseded engagement; kept, not filed", upload.BlobName);
            return;
        }
        if (!Pending(record, kind)) return;

        // The copy in the uploads container is within the limit (RecordBlobArrival refused it otherwise), so it is read whole.
        var blob = storage.Container(StorageNames.Containers.Uploads).GetBlobClient(upload.BlobName);
        var content = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        var size = content.LongLength;
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        string? rejection;
        VerifiedFigures? figures = null;
        if (size > Limit(kind))
        {
            rejection = $"The verification {Name(kind)} is {size} bytes, over the {Limit(kind)}-byte limit; upload a smaller file.";
        }
        else if (kind == VerificationDocumentKind.Report)
        {
            rejection = VerificationDocumentChecks.PdfProblem(content, settings.PdfLimits);
        }
        else
        {
            var (statement, problems) = VerificationDocumentChecks.ReadStatement(content, record);
            rejection = problems.Count == 0 ? null : string.Join(" ", problems);
            figures = statement is null ? null : new VerifiedFigures(statement.DirectEmissionsT, statement.IndirectEmissionsT, statement.TotalEmissionsT,
                statement.Opinion, statement.Misstatements, statement.NonConformities);
        }

        var now = clock.GetUtcNow();
        var document = new VerificationDocument(kind, upload.BlobName, sha256, size, now, Retention.Until(now));
        await FileAsync(uscc, year, engagement, kind, current => Apply(current, document, rejection, figures, now), cancellationToken);
    }

    /// <summary>Applies the outcome of one document to its engagement, if that is still current and waiting for it, and audits the change.</summary>
    private async Task FileAsync(string uscc, int year, string engagement, VerificationDocumentKind kind, Func<VerificationRecord, VerificationRecord> outcome,
        CancellationToken cancellationToken)
    {
        VerificationRecord? before = null;
        var after = await verifications.UpdateAsync(uscc, year, current =>
        {
            if (current.Engagement != engagement || !Pending(current, kind)) return null;
            before = current;
            return outcome(current);
        }, cancellationToken);
        if (after is null)
        {
            // A redelivered event finds the document filed; it makes sure the accepted verification's check was opened and the
            // outcome told (both idempotent).
            if (await verifications.FindAsync(uscc, year, cancellationToken) is { Status: VerificationStatus.Accepted or VerificationStatus.Rejected } current && current.Engagement == engagement)
            {
                await TellAsync(current, cancellationToken);
                if (current.Status == VerificationStatus.Accepted) await checks.VerificationAcceptedAsync(uscc, year, current.ReportVersion, engagement, cancellationToken);
            }
            return;
        }
        var action = after.Status switch
        {
            VerificationStatus.Accepted => "verification.accepted",
            VerificationStatus.Rejected => "verification.rejected",
            _ => "verification.document-received",
        };
        await audit.RecordAsync(Actor.System(nameof(VerificationUploads)), action, $"units/{uscc}/reports/{year}", before, after, cancellationToken);
        if (after.Status is VerificationStatus.Accepted or VerificationStatus.Rejected) await TellAsync(after, cancellationToken);
        // The district's preliminary check (初步检查) of the accepted verification, before the regulator confirms (Art. 23).
        if (after.Status == VerificationStatus.Accepted) await checks.VerificationAcceptedAsync(uscc, year, after.ReportVersion, engagement, cancellationToken);
    }

    /// <summary>The unit and the body learn the outcome, with the reasons of a rejection.</summary>
    private Task TellAsync(VerificationRecord outcome, CancellationToken cancellationToken)
    {
        var accepted = outcome.Status == VerificationStatus.Accepted;
        var reasons = accepted || outcome.Reason is null ? [] : new[] { outcome.Reason };
        return notices.PublishAsync(new[] { Party.Unit(outcome.Uscc), Party.Verifier(outcome.Verifier) }
            .Select(to => NoticeTemplates.VerificationOutcome(to, outcome.Uscc, outcome.Year, accepted, reasons, outcome.Engagement)).ToList(), cancellationToken);
    }

    /// <summary>Whether the engagement still waits for this kind of document.</summary>
    private static bool Pending(VerificationRecord record, VerificationDocumentKind kind) =>
        record.Status == VerificationStatus.AwaitingUpload && record.Document(kind) is null;

    private VerificationRecord Apply(VerificationRecord current, VerificationDocument document, string? rejection, VerifiedFigures? figures, DateTimeOffset now)
    {
        var documents = current.Documents.Append(document).ToList();
        if (rejection is not null) return Reject(current, rejection, now) with { Documents = documents };
        var statement = figures ?? current.Statement;
        if (documents.Count < 2 || statement is null) return current with { Statement = statement, Documents = documents, UpdatedAt = now };
        var flag = VerificationDocumentChecks.FlagReason(current.ReportedEmissionsT, statement, settings.FlagThresholdPercent);
        return current with
        {
            Status = VerificationStatus.Accepted,
            Reason = flag,
            VerifiedEmissionsT = statement.TotalEmissionsT,
            Flagged = flag is not null,
            Statement = statement,
            Documents = documents,
            UpdatedAt = now,
        };
    }

    private static VerificationRecord Reject(VerificationRecord current, string rejection, DateTimeOffset now) => current with
    {
        Status = VerificationStatus.Rejected,
        Reason = rejection + " For another attempt the unit engages the body again (POST .../verification), and the body obtains new links.",
        UpdatedAt = now,
    };

    private long Limit(VerificationDocumentKind kind) => kind == VerificationDocumentKind.Report ? settings.MaxReportBytes : settings.MaxStatementBytes;

    private static string Name(VerificationDocumentKind kind) => kind == VerificationDocumentKind.Report ? "report" : "statement";
}
