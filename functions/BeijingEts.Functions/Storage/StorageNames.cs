namespace BeijingEts.Functions.Storage;

/// <summary>
/// Every table, queue and container the app uses, by logical name, in one place. A prefix (empty in production,
/// unique per test class) is put in front of each so tests run in parallel on one storage account.
/// </summary>
public sealed class StorageNames(string prefix)
{
    public static class Tables
    {
        public const string Audit = "audit";
        public const string Calendar = "calendar";
        public const string TimerStatus = "timerstatus";
        public const string BlobScan = "blobscan";
        public const string Uploads = "uploads";
        public const string Units = "units";
        public const string ListRules = "listrules";
        public const string Statistics = "statistics";
        public const string ListRevisions = "listrevisions";
        public const string UnitChanges = "unitchanges";
        public const string Removals = "removals";
        public const string Ledger = "ledger";
        public const string LedgerTransactions = "ledgertransactions";
        public const string Participants = "participants";
        public const string AllocationPlans = "allocationplans";
        public const string Allocations = "allocations";
        public const string Objections = "objections";
        public const string EmissionFactors = "emissionfactors";
        public const string Reports = "reports";
        public const string Verifications = "verifications";
        public const string Confirmations = "confirmations";
        public const string Verifiers = "verifiers";
        public const string ReportSamples = "reportsamples";
        public const string ReportAttachments = "reportattachments";
        public const string MonthlyData = "monthlydata";
        /// <summary>Key units' data-quality control plans (Art. 22): each version and its decision, a partition per unit and year.</summary>
        public const string QualityPlans = "qualityplans";
        public const string Checks = "checks";
        public const string Cases = "cases";
        public const string Adjustments = "adjustments";
        public const string OptIns = "optins";
        public const string ExchangeReports = "exchangereports";
        public const string Projects = "projects";
        public const string AccountApplications = "accountapplications";
        public const string Surrenders = "surrenders";
        public const string Cycles = "cycles";
        public const string CycleSteps = "cyclesteps";
        /// <summary>Funds accounts at the exchange: a balance row and a journal row per movement, per participant.</summary>
        public const string Funds = "funds";
        /// <summary>Market orders, a partition per participant.</summary>
        public const string Orders = "orders";
        /// <summary>Each book's command sequence, trades, depth and reference price, a partition per product and vintage.</summary>
        public const string OrderBook = "orderbook";
        /// <summary>Negotiated transfers, a partition per seller.</summary>
        public const string Negotiated = "negotiated";
        /// <summary>Paid auctions, a partition per auction with its sealed bids.</summary>
        public const string Auctions = "auctions";
        /// <summary>Price alerts (Art. 20) and declared related parties (Art. 34).</summary>
        public const string MarketWatch = "marketwatch";
        /// <summary>Proposals of irreversible regulator actions, waiting for or decided by a second regulator.</summary>
        public const string Approvals = "approvals";
        /// <summary>Notices to each party (its inbox, a partition per party), their delivery, and the parties' contacts.</summary>
        public const string Notices = "notices";
        public const string Contacts = "contacts";

        public static readonly string[] All = [Audit, Calendar, TimerStatus, BlobScan, Uploads, Units, ListRules, Statistics, ListRevisions, UnitChanges, Removals, Ledger, LedgerTransactions, Participants, AllocationPlans, Allocations, Objections, EmissionFactors, Reports, Verifications, Confirmations, Verifiers, ReportSamples, ReportAttachments, MonthlyData, QualityPlans, Checks, Cases, Adjustments, OptIns, ExchangeReports, Projects, AccountApplications, Surrenders, Cycles, CycleSteps, Funds, Orders, OrderBook, Negotiated, Auctions, MarketWatch, Approvals, Notices, Contacts];
    }

    public static class Queues
    {
        public const string UploadEvents = "upload-events";
        /// <summary>Ledger transactions to settle, one message per transaction id.</summary>
        public const string AllowanceEvents = "allowance-events";
        /// <summary>A book has commands to match, one message per request.</summary>
        public const string MarketMatch = "market-match";
        /// <summary>Trades to settle and ended orders' releases.</summary>
        public const string MarketSettlement = "market-settlement";

        /// <summary>Notices to deliver by email: a message per batch of one party's notices.</summary>
        public const string NoticeDelivery = "notice-delivery";

        public static string Poison(string queue) => queue + "-poison";
    }

    public static class Containers
    {
        /// <summary>Uploads accepted from staging, kept write-once (Art. 22); download links read from here.</summary>
        public const string Uploads = "uploads";
        /// <summary>
        /// Where signed upload links put documents; each new blob raises a BlobCreated event. Not write-once, so an upload
        /// refused on its size is never kept; what is accepted is copied into <see cref="Uploads"/>.
        /// </summary>
        public const string Staging = "upload-staging";
        /// <summary>Audit before/after images too large for a table property.</summary>
        public const string Audit = "audit";
        /// <summary>Statistics files as imported, kept as the evidence a list was computed from.</summary>
        public const string Imports = "imports";
        /// <summary>Each published list revision as a document (Art. 7), never overwritten.</summary>
        public const string PublishedLists = "published-lists";

        /// <summary>Each annual report version as submitted and computed (Art. 21), written once and kept (Art. 22).</summary>
        public const string Reports = "reports";

        /// <summary>Leases that make one instance at a time match a book; a blob per book, empty. Not a document container.</summary>
        public const string MarketLocks = "market-locks";

        /// <summary>The changes each list-changes check puts to its district (Art. 9 para 1), a document per check, written once.</summary>
        public const string DistrictChecks = "district-checks";

        /// <summary>The containers of documents kept unmodified (Art. 22): write-once in Azure (infra/).</summary>
        public static readonly string[] Documents = [Uploads, Audit, Imports, PublishedLists, Reports, DistrictChecks];

        public static readonly string[] All = [.. Documents, Staging, MarketLocks];
    }

    public string Prefix { get; } = Validate(prefix);

    public string Table(string logical) => Prefix + logical.Replace("-", "", StringComparison.Ordinal);

    public string Queue(string logical) => Prefix + logical;

    public string Container(string logical) => Prefix + logical;

    private static string Validate(string prefix) =>
        prefix.Length == 0 || (prefix.Length <= 20 && char.IsAsciiLetterLower(prefix[0]) && prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            ? prefix
            : throw new InvalidOperationException($"Storage prefix '{prefix}' must be up to 20 lowercase letters and digits, starting with a letter.");
}
